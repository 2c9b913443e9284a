"""`@frozen`: a frozen dataclass whose comparison, hash, repr and immutability are shared.

`dataclasses` writes every class its own `__eq__`, `__hash__`, `__repr__`, `__setattr__` and
`__delattr__`, compiled from source text: 6 KiB of a frozen class's 12 (five fields). The
daemon holds about 160 record, result and config classes, 1 MiB of such copies. `@frozen`
lets dataclasses make the class, then puts in place of each of those five methods it wrote one
function shared by every class, which does the same from the class's field names:

- equal when of the same class and every compared field is equal (else NotImplemented);
- hashed on the fields dataclasses would hash (compared ones, or `hash=True`);
- `Name(field=value, ...)` over the fields with `repr=True`, safe against cycles;
- assigning or deleting an attribute raises FrozenInstanceError, as dataclasses' does (a plain
  subclass may still set a name that is not a field).

`__init__` stays dataclasses' own, and a method the class defines itself is kept.
tests/foundation/test_frozen.py holds each of these to what `@dataclass(frozen=True)` does.
"""

from __future__ import annotations

import dataclasses
import reprlib
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = self.__frozen_compare__
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, n) for n in self.__frozen_hash__))


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__frozen_repr__)
    return f"{self.__class__.__qualname__}({shown})"


def _setattr(self: Any, name: str, value: Any) -> None:
    if "__frozen_fields__" in type(self).__dict__ or name in self.__frozen_fields__:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _delattr(self: Any, name: str) -> None:
    if "__frozen_fields__" in type(self).__dict__ or name in self.__frozen_fields__:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


_SHARED = {
    "__eq__": _eq,
    "__hash__": _hash,
    "__repr__": _repr,
    "__setattr__": _setattr,
    "__delattr__": _delattr,
}


def _written_by_dataclasses(method: Any) -> bool:
    code = getattr(getattr(method, "__wrapped__", method), "__code__", None)  # __repr__ is wrapped
    return code is not None and code.co_filename == "<string>"


@dataclass_transform(frozen_default=True)
def frozen(cls: type[T]) -> type[T]:
    """`@dataclass(frozen=True)`, with the shared methods above (see the module's docstring)."""
    made = dataclasses.dataclass(frozen=True)(cls)
    fields = dataclasses.fields(made)  # type: ignore[arg-type]
    names: dict[str, tuple[str, ...]] = {
        "__frozen_fields__": tuple(f.name for f in fields),
        "__frozen_compare__": tuple(f.name for f in fields if f.compare),
        "__frozen_hash__": tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)),
        "__frozen_repr__": tuple(f.name for f in fields if f.repr),
    }
    for name, value in names.items():
        type.__setattr__(made, name, value)
    for name, shared in _SHARED.items():
        if _written_by_dataclasses(made.__dict__.get(name)):
            type.__setattr__(made, name, shared)
    return made
