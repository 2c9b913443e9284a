"""The Windows registry, read and written through `winreg` (no PowerShell needed).

Keys are written as `HKLM\\SOFTWARE\\...`. A value is a `RegValue` (type + data), which also
turns into JSON and back, so the enforcement undo log (policies/undo.py) can keep the value
that was there before a change, or that there was none.
"""

from __future__ import annotations

import base64
import importlib
import os
from typing import Any, Protocol

from common.errors import HostwardError
from common.frozen import frozen

REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_QWORD = 1, 2, 3, 4, 7, 11
HIVES = ("HKLM", "HKEY_LOCAL_MACHINE", "HKCU", "HKEY_CURRENT_USER", "HKU", "HKEY_USERS")
_HIVE_NAMES = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKU": "HKEY_USERS"}


class RegistryError(HostwardError):
    """The registry cannot be read or written (or this is not Windows)."""


@frozen
class RegValue:
    """A registry value: its REG_* type and data."""

    kind: int  # REG_* type
    data: int | str | bytes | tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        data: Any = self.data
        if isinstance(data, bytes):
            data = base64.b64encode(data).decode("ascii")
        elif isinstance(data, tuple):
            data = list(data)
        return {"type": self.kind, "data": data}

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> RegValue:
        kind, data = int(item["type"]), item["data"]
        if kind == REG_BINARY or not isinstance(data, int | str | list):
            return cls(kind, base64.b64decode(str(data)))
        return cls(kind, tuple(str(s) for s in data) if isinstance(data, list) else data)


def dword(value: int) -> RegValue:
    return RegValue(REG_DWORD, int(value))


class Registry(Protocol):
    """Read and write access to the registry, as checks and enforcement use it (WinRegistry: the live one)."""

    def get(self, key: str, name: str) -> RegValue | None:
        """The value `name` of `key`; None when the key or the value does not exist."""

    def set(self, key: str, name: str, value: RegValue) -> None:
        """Create the key (and its parents) as needed and set the value."""

    def delete(self, key: str, name: str) -> None:
        """Remove the value; nothing when it (or its key) does not exist."""

    def key_exists(self, key: str) -> bool: ...

    def delete_key_if_empty(self, key: str) -> bool:
        """Remove `key` when it has no values and no subkeys; True if removed."""


class RegistryReader(Protocol):
    """Read-only access, with listing (the asset register walks the Uninstall keys)."""

    def get(self, key: str, name: str) -> RegValue | None: ...

    def subkeys(self, key: str) -> list[str]:
        """Names of the subkeys of `key`; [] when the key does not exist."""

    def values(self, key: str) -> dict[str, RegValue]:
        """Every value of `key` by name; {} when the key does not exist."""


def split(key: str) -> tuple[str, str]:
    """("HKLM" | "HKCU" | "HKU", path below the hive); HKU alone (no path) lists the users."""
    hive, _, path = key.partition("\\")
    short = next((s for s, long in _HIVE_NAMES.items() if hive.upper() in (s, long)), None)
    if short is None or (not path and short != "HKU"):
        raise RegistryError(f"not a registry key under HKLM, HKCU or HKU: {key}")
    return short, path


def parents(key: str) -> list[str]:
    """`key` and each parent below its hive, deepest first."""
    hive, path = split(key)
    parts = path.split("\\")
    return [hive + "\\" + "\\".join(parts[:n]) for n in range(len(parts), 0, -1)]


class WinRegistry:
    """The local machine's registry (64-bit view)."""

    def __init__(self) -> None:
        if os.name != "nt":
            raise RegistryError("the Windows registry exists on Windows only")
        # typed loosely: mypy checks for Linux, where winreg has no members
        self._w: Any = importlib.import_module("winreg")

    def _root(self, hive: str) -> Any:
        return getattr(self._w, _HIVE_NAMES[hive])

    def _open(self, key: str, access: int) -> Any:
        hive, path = split(key)
        root = self._root(hive)
        return self._w.OpenKeyEx(root, path, 0, access | self._w.KEY_WOW64_64KEY)

    def get(self, key: str, name: str) -> RegValue | None:
        try:
            with self._open(key, self._w.KEY_READ) as handle:
                data, kind = self._w.QueryValueEx(handle, name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RegistryError(f"cannot read {key}\\{name}: {exc}") from exc
        if isinstance(data, list):
            data = tuple(data)
        return RegValue(int(kind), data if data is not None else b"")

    def subkeys(self, key: str) -> list[str]:
        try:
            with self._open(key, self._w.KEY_READ) as handle:
                count = self._w.QueryInfoKey(handle)[0]
                return [self._w.EnumKey(handle, i) for i in range(count)]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise RegistryError(f"cannot list {key}: {exc}") from exc

    def values(self, key: str) -> dict[str, RegValue]:
        out: dict[str, RegValue] = {}
        try:
            with self._open(key, self._w.KEY_READ) as handle:
                for i in range(self._w.QueryInfoKey(handle)[1]):
                    name, data, kind = self._w.EnumValue(handle, i)
                    if isinstance(data, list):
                        data = tuple(data)
                    out[str(name)] = RegValue(int(kind), data if data is not None else b"")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise RegistryError(f"cannot read {key}: {exc}") from exc
        return out

    def set(self, key: str, name: str, value: RegValue) -> None:
        hive, path = split(key)
        root = self._root(hive)
        data: Any = list(value.data) if isinstance(value.data, tuple) else value.data
        try:
            access = self._w.KEY_SET_VALUE | self._w.KEY_WOW64_64KEY
            with self._w.CreateKeyEx(root, path, 0, access) as handle:
                self._w.SetValueEx(handle, name, 0, value.kind, data)
        except OSError as exc:
            raise RegistryError(f"cannot write {key}\\{name}: {exc}") from exc

    def delete(self, key: str, name: str) -> None:
        try:
            with self._open(key, self._w.KEY_SET_VALUE) as handle:
                self._w.DeleteValue(handle, name)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise RegistryError(f"cannot remove {key}\\{name}: {exc}") from exc

    def key_exists(self, key: str) -> bool:
        try:
            with self._open(key, self._w.KEY_READ):
                return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise RegistryError(f"cannot open {key}: {exc}") from exc

    def delete_key_if_empty(self, key: str) -> bool:
        try:
            with self._open(key, self._w.KEY_READ) as handle:
                subkeys, values, _ = self._w.QueryInfoKey(handle)
            if subkeys or values:
                return False
            hive, path = split(key)
            root = self._root(hive)
            self._w.DeleteKeyEx(root, path, self._w.KEY_WOW64_64KEY, 0)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise RegistryError(f"cannot remove the key {key}: {exc}") from exc
        return True


def local() -> Registry:
    """The local registry; raises RegistryError off Windows."""
    return WinRegistry()


def local_reader() -> RegistryReader:
    """The local registry for reading and listing; raises RegistryError off Windows."""
    return WinRegistry()
