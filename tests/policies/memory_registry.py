"""An in-memory stand-in for the Windows registry, for the Linux unit tests of the enforcement
logic and the replay of recorded registry values (windows_cases.py; also run by the bundle's
Python under Wine, so: standard library and hostward only). The real registry (winreg) is
exercised under Wine in tests/windows/."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from collectors.system.windows.registry import RegistryError, RegValue, parents, split


class MemoryRegistry:
    """`denied`: keys (and their subkeys) that cannot be read, as when access is refused."""

    def __init__(self, denied: Iterable[str] = ()) -> None:
        self.keys: dict[str, dict[str, RegValue]] = {}
        self.denied = tuple(self._norm(k) for k in denied)

    def load(self, recorded: Mapping[str, Mapping[str, Any]]) -> MemoryRegistry:
        """Add recorded values: {key: {value name: {"type": REG_*, "data": ...}}} (RegValue JSON)."""
        for key, values in recorded.items():
            for k in parents(key):
                self.keys.setdefault(self._norm(k), {})
            for name, value in values.items():
                self.set(key, name, RegValue.from_json(dict(value)))
        return self

    def load_json(self, text: bytes | str) -> MemoryRegistry:
        return self.load(json.loads(text))

    @staticmethod
    def _norm(key: str) -> str:
        hive, path = split(key)
        return f"{hive}\\{path}".lower()

    def get(self, key: str, name: str) -> RegValue | None:
        norm = self._norm(key)
        if any(norm == d or norm.startswith(d + "\\") for d in self.denied):
            raise RegistryError(f"cannot read {key}\\{name}: [WinError 5] Access is denied")
        return self.keys.get(self._norm(key), {}).get(name)

    def set(self, key: str, name: str, value: RegValue) -> None:
        for k in parents(key):
            self.keys.setdefault(self._norm(k), {})
        self.keys[self._norm(key)][name] = value

    def delete(self, key: str, name: str) -> None:
        self.keys.get(self._norm(key), {}).pop(name, None)

    def key_exists(self, key: str) -> bool:
        return self._norm(key) in self.keys

    def delete_key_if_empty(self, key: str) -> bool:
        norm = self._norm(key)
        if self.keys.get(norm) or any(k.startswith(norm + "\\") for k in self.keys):
            return False
        return self.keys.pop(norm, None) is not None
