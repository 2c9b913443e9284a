"""The watchdog's set-asides ("watchdog.jobs", "watchdog.checks") and the state recovery
("state.recovered")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any, ClassVar, Self

from agent.records.base import Reader, start
from common.frozen import frozen


@frozen
class SetAside:
    """One job or check set aside: `until` (Unix time), stops in a row, and why."""

    until: float
    strikes: int
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"until": self.until, "strikes": self.strikes, "reason": self.reason}


def _entries(reader: Reader) -> dict[str, SetAside]:
    out = {}
    for name in reader.data:
        if name == "version":
            continue
        entry = reader.obj(str(name))
        if entry is not None:
            out[str(name)] = SetAside(entry.number("until"), entry.integer("strikes"), entry.text("reason"))
    return out


@frozen
class _SetAsideRecord:
    """Set-asides by name (the watchdog's, agent/watchdog): one record kind each for jobs and checks."""

    KIND: ClassVar[str]
    VERSION: ClassVar[int] = 1

    entries: Mapping[str, SetAside] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.VERSION, **{n: e.to_json() for n, e in sorted(self.entries.items())}}

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(_entries(start(cls.KIND, cls.VERSION, data)))


@frozen
class WatchdogJobsRecord(_SetAsideRecord):
    """Jobs the scheduler has set aside, by job name."""

    KIND: ClassVar[str] = "watchdog.jobs"


@frozen
class WatchdogChecksRecord(_SetAsideRecord):
    """Checks the audit job has set aside, by check id."""

    KIND: ClassVar[str] = "watchdog.checks"


@frozen
class StateRecoveredRecord:
    """A damaged state database was set aside (as `damaged`) and a fresh one started."""

    KIND: ClassVar[str] = "state.recovered"
    VERSION: ClassVar[int] = 1

    time: float
    damaged: str
    files: tuple[str, ...]
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"version": self.VERSION, "time": self.time, "damaged": self.damaged,
                "files": list(self.files), "reason": self.reason}  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> StateRecoveredRecord:
        r = start(cls.KIND, cls.VERSION, data)
        return cls(r.number("time"), r.text("damaged"), r.texts("files"), r.text("reason", ""))
