"""The "drill_full" record: the last full disaster-recovery drill per repository, and the last
one that passed (agent/actions/backup_drill_full.py writes it through `FullDrillUpdate`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any, ClassVar

from agent.records.base import malformed, start, wrap
from backup.drill_full_result import FullDrillResult
from common.frozen import frozen


@frozen
class FullDrills:
    """One repository's drills: the latest (passed or not) and the latest that passed."""

    last: FullDrillResult
    last_ok: FullDrillResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.last.to_json(), "last_ok": self.last_ok.to_json() if self.last_ok else None}


@frozen
class FullDrillRecord:
    """The full disaster-recovery drills, by repository name."""

    KIND: ClassVar[str] = "drill_full"
    VERSION: ClassVar[int] = 1

    repositories: Mapping[str, FullDrills] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        repos = {n: d.to_json() for n, d in self.repositories.items()}
        return {"version": self.VERSION, "repositories": repos}

    @classmethod
    def from_json(cls, data: Any) -> FullDrillRecord:
        r = start(cls.KIND, cls.VERSION, data)
        repos = {}
        for name, entry in r.mapping("repositories").items():
            if not isinstance(entry, Mapping):
                raise malformed(cls.KIND, f"repositories.{name}", "expected an object")
            try:
                last = FullDrillResult.from_json(entry)
                raw_ok = entry.get("last_ok")
                last_ok = FullDrillResult.from_json(raw_ok) if isinstance(raw_ok, Mapping) else None
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise wrap(exc, cls.KIND, f"repositories.{name}") from exc
            repos[str(name)] = FullDrills(last, last_ok)
        return cls(repos)


@frozen
class FullDrillUpdate:
    """One drill's result into its repository's entry (a pass also becomes `last_ok`)."""

    result: FullDrillResult

    def record_type(self) -> type[FullDrillRecord]:
        return FullDrillRecord

    def apply(self, current: FullDrillRecord | None) -> FullDrillRecord:
        repos = dict(current.repositories) if current is not None else {}
        previous = repos.get(self.result.repository)
        last_ok = self.result if self.result.ok else previous.last_ok if previous else None
        repos[self.result.repository] = FullDrills(self.result, last_ok)
        return FullDrillRecord(repos)
