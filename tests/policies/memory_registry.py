"""An in-memory stand-in for the Windows registry, for the Linux unit tests of the enforcement
logic. The real registry (winreg) is exercised under Wine in tests/windows/."""

from __future__ import annotations

from collectors.system.windows.registry import RegValue, parents, split


class MemoryRegistry:
    def __init__(self) -> None:
        self.keys: dict[str, dict[str, RegValue]] = {}

    @staticmethod
    def _norm(key: str) -> str:
        hive, path = split(key)
        return f"{hive}\\{path}".lower()

    def get(self, key: str, name: str) -> RegValue | None:
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
