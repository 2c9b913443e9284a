"""common/frozen.py: a `@frozen` class behaves as the same class under `@dataclass(frozen=True)`
(equality, hash, repr, immutability, pickling, replace), and holds no generated copies of the
shared methods."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import field
from typing import Any

import pytest

from common.frozen import frozen


@frozen
class Point:
    """A frozen class with a field left out of comparison and repr."""

    x: int
    label: str = "p"
    notes: list[str] = field(default_factory=list, compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class Reference:
    """The same fields under dataclasses' own methods."""

    x: int
    label: str = "p"
    notes: list[str] = field(default_factory=list, compare=False, repr=False)


@frozen
class Point3(Point):
    """A frozen subclass."""

    z: int = 0


class Plain(Point):
    """A plain subclass: may set a name that is not a field, as under dataclasses."""


@frozen
class Shown:
    """A class that writes its own repr: kept."""

    x: int

    def __repr__(self) -> str:
        return "shown"


@frozen
class Node:
    """A record that can hold itself (a cycle in repr)."""

    children: list[Any]


def test_equality_hash_and_repr_are_those_of_dataclasses() -> None:
    pairs: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = [
        ((1,), (1,)), ((1, "a", ["n"]), (1, "a", ["other"])), ((1, "a"), (2, "a")), ((1, "a"), (1, "b")),
    ]  # fmt: skip
    for a, b in pairs:
        mine, theirs = (Point(*a), Point(*b)), (Reference(*a), Reference(*b))
        assert (mine[0] == mine[1]) == (theirs[0] == theirs[1])
        assert (mine[0] != mine[1]) == (theirs[0] != theirs[1])
        assert hash(mine[0]) == hash(theirs[0])
        assert repr(mine[0]) == repr(theirs[0]).replace("Reference", "Point")
    assert Point(1) != Reference(1) and Point3(1) != Point(1) and Point(1).__eq__(1) is NotImplemented
    assert repr(Point3(1, z=2)) == "Point3(x=1, label='p', z=2)" and repr(Shown(1)) == "shown"
    node = Node([])
    node.children.append(node)
    assert repr(node) == "Node(children=[...])"


def test_fields_cannot_be_assigned_or_deleted() -> None:
    point = Point(1)
    for target, name in [(point, "x"), (point, "new"), (Point3(1), "z"), (Plain(1), "x")]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(target, name, 2)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(target, name)
    plain = Plain(1)
    plain.extra = 5  # type: ignore[attr-defined]
    assert plain.extra == 5  # type: ignore[attr-defined]


def test_it_stays_a_dataclass_that_pickles_copies_and_replaces() -> None:
    point = Point3(1, "a", ["n"], 3)
    assert pickle.loads(pickle.dumps(point)) == point and copy.deepcopy(point) == point  # noqa: S301
    assert dataclasses.replace(point, z=4) == Point3(1, "a", [], 4)
    assert [f.name for f in dataclasses.fields(point)] == ["x", "label", "notes", "z"]
    assert dataclasses.asdict(point) == {"x": 1, "label": "a", "notes": ["n"], "z": 3}


def test_every_class_shares_the_methods_and_keeps_its_own_init() -> None:
    for name in ("__eq__", "__hash__", "__repr__", "__setattr__", "__delattr__"):
        assert getattr(Point, name) is getattr(Point3, name)
    assert Point.__init__ is not Point3.__init__
    assert Shown.__repr__ is not Point.__repr__
