"""What every typed state record shares: its kind, its version, and strict JSON reading.

A record is a frozen dataclass with `KIND` (the state's key) and `VERSION` (the layout it
writes). `to_json()` gives the JSON object stored, with `"version"`; `from_json()` reads it
back and raises StateError naming the kind and the field when the payload is malformed. A
payload without `"version"` was written before the records were typed (version 0): it has the
same layout as version 1 and loads as such. A version newer than the code knows is refused.

An update (`RecordUpdate`) is a frozen, picklable description of a change to one record
(`apply(current) -> new`): State.put_record applies it inside one `BEGIN IMMEDIATE`
transaction, so two processes updating the same record never lose each other's changes.
A `KeyUpdate` is the same for one small key/value entry of the state (State.update).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, Self, TypeVar, runtime_checkable

from common.errors import HostwardError


class StateError(HostwardError):
    """The state database cannot be opened or written, or a stored record is malformed."""


class StateRecord(Protocol):
    """A typed record of one kind."""

    KIND: ClassVar[str]
    VERSION: ClassVar[int]

    def to_json(self) -> dict[str, Any]: ...

    @classmethod
    def from_json(cls, data: Any) -> Self: ...


R = TypeVar("R", bound=StateRecord)


@runtime_checkable
class RecordUpdate(Protocol[R]):
    """A change to the record of `record_type` (None: there is none yet)."""

    def record_type(self) -> type[R]: ...

    def apply(self, current: R | None) -> R: ...


@runtime_checkable
class KeyUpdate(Protocol):
    """A change to the key/value entry `key()`: its JSON value in (None: none stored), the new
    one out. Frozen and picklable (a worker sends it to the daemon), pure (it may run again)."""

    def key(self) -> str: ...

    def apply(self, current: Any) -> Any: ...


def malformed(kind: str, field: str, why: str) -> StateError:
    return StateError(f"state record {kind!r} is malformed: field {field!r}: {why}")


class Reader:
    """Strict field access on one JSON object of record `kind`; `where` prefixes field names."""

    def __init__(self, kind: str, data: Any, where: str = "") -> None:
        if not isinstance(data, Mapping):
            raise malformed(kind, where or "(payload)", f"expected an object, found {type(data).__name__}")
        self.kind = kind
        self.data: Mapping[str, Any] = data
        self.where = where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise malformed(self.kind, self.name(key), "missing")
            return None
        return self.data[key]

    def number(self, key: str) -> float:
        value = self._get(key, True)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise malformed(self.kind, self.name(key), f"expected a number, found {value!r}")
        return float(value)

    def opt_number(self, key: str) -> float | None:
        return None if self._get(key, False) is None else self.number(key)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self._get(key, default is None)
        if value is None:
            assert default is not None
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise malformed(self.kind, self.name(key), f"expected an integer, found {value!r}")
        return value

    def opt_integer(self, key: str) -> int | None:
        return None if self._get(key, False) is None else self.integer(key)

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key, default is None)
        if value is None:
            assert default is not None
            return default
        if not isinstance(value, str):
            raise malformed(self.kind, self.name(key), f"expected a string, found {value!r}")
        return value

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self._get(key, default is None)
        if value is None:
            assert default is not None
            return default
        if not isinstance(value, bool):
            raise malformed(self.kind, self.name(key), f"expected true or false, found {value!r}")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        items = self.items(key)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise malformed(self.kind, f"{self.name(key)}[{i}]", f"expected a string, found {item!r}")
        return tuple(items)

    def items(self, key: str) -> Sequence[Any]:
        value = self._get(key, False)
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise malformed(self.kind, self.name(key), f"expected a list, found {type(value).__name__}")
        return tuple(value)

    def obj(self, key: str) -> Reader | None:
        value = self._get(key, False)
        return None if value is None else Reader(self.kind, value, self.name(key))

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self._get(key, False)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise malformed(self.kind, self.name(key), f"expected an object, found {type(value).__name__}")
        return value

    def numbers(self, key: str) -> dict[str, float]:
        out = {}
        for name, value in self.mapping(key).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise malformed(self.kind, f"{self.name(key)}.{name}", f"expected a number, found {value!r}")
            out[str(name)] = float(value)
        return out


def start(kind: str, version: int, data: Any) -> Reader:
    """Check the payload is an object of a known version; a reader for its fields."""
    reader = Reader(kind, data)
    stored = reader.data.get("version", 0)
    if isinstance(stored, bool) or not isinstance(stored, int) or stored < 0:
        raise malformed(kind, "version", f"expected a version number, found {stored!r}")
    if stored > version:
        raise malformed(kind, "version", f"version {stored} is newer than this agent knows ({version})")
    return reader


def wrap(exc: Exception, kind: str, field: str) -> StateError:
    """A parse error from a model's own reader (KeyError, TypeError, ValueError) as StateError."""
    if isinstance(exc, StateError):
        return exc
    detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
    return malformed(kind, field, detail)
