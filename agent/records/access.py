"""The "access_log" record (ROOM-6, USB-3): running totals of the access-log archive.

The events themselves live in the archive (agent/access/archive.py); this record keeps what
/metrics and the daily report need: counts by kind and by failed-login source, per local day
(the last DAYS_KEPT days), the last run of each source, and the last USB connections. Two
writers share it (the access_log job and the USB listener thread), so it changes only through
`AccessLogUpdate`, applied inside the state's transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import field, replace
from typing import Any, ClassVar

from agent.records.base import Reader, malformed, start
from collectors.access import KINDS, AccessEvent
from common.frozen import frozen

DAYS_KEPT = 14
USB_RECENT = 50


@frozen
class AccessSource:
    """How one source (wtmp, auth.log, journal, security, ...) read on the last run."""

    status: str  # ok | error | absent
    error: str = ""
    read: int = 0
    malformed: int = 0
    gap: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error, "read": self.read, "malformed": self.malformed,
                "gap": self.gap}  # fmt: skip

    @classmethod
    def read_from(cls, r: Reader) -> AccessSource:
        return cls(r.text("status"), r.text("error", ""), r.integer("read", 0), r.integer("malformed", 0),
                   r.text("gap", ""))  # fmt: skip


def _counts(r: Reader, key: str) -> dict[str, int]:
    return {name: int(value) for name, value in r.numbers(key).items()}


@frozen
class AccessLogRecord:
    """Running totals of the access-log archive: events by kind and by day, failed logins by source,
    how each source read, the last run, and the recent USB connections."""

    KIND: ClassVar[str] = "access_log"
    VERSION: ClassVar[int] = 1

    events_total: Mapping[str, int] = field(default_factory=dict)  # by kind
    failed_total: Mapping[str, int] = field(default_factory=dict)  # failed logins by source
    days: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # YYYY-MM-DD -> kind -> count
    sources: Mapping[str, AccessSource] = field(default_factory=dict)
    last_run: float | None = None
    last_success: float | None = None
    success: bool | None = None
    usb_recent: tuple[Mapping[str, Any], ...] = ()  # AccessEvent.to_json() of the last connections

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.VERSION, "events_total": dict(self.events_total),
            "failed_total": dict(self.failed_total), "days": {d: dict(c) for d, c in self.days.items()},
            "sources": {n: s.to_json() for n, s in self.sources.items()},
            "usb_recent": [dict(u) for u in self.usb_recent],
        }  # fmt: skip
        for key in ("last_run", "last_success", "success"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_json(cls, data: Any) -> AccessLogRecord:
        r = start(cls.KIND, cls.VERSION, data)
        days = {}
        for day in r.mapping("days"):
            sub = r.obj("days")
            assert sub is not None
            days[str(day)] = _counts(sub, day)
        sources = {}
        for name in r.mapping("sources"):
            sub = r.obj("sources")
            row = sub.obj(name) if sub is not None else None
            if row is not None:
                sources[str(name)] = AccessSource.read_from(row)
        recent = r.items("usb_recent")
        for i, item in enumerate(recent):
            if not isinstance(item, Mapping):
                raise malformed(cls.KIND, f"usb_recent[{i}]", "expected an object")
        success = r.flag("success") if r.data.get("success") is not None else None
        return cls(
            events_total=_counts(r, "events_total"), failed_total=_counts(r, "failed_total"), days=days,
            sources=sources, last_run=r.opt_number("last_run"), last_success=r.opt_number("last_success"),
            success=success, usb_recent=tuple(recent),
        )  # fmt: skip


@frozen
class AccessLogUpdate:
    """Count `events` in; with `run` (the job's end) also the sources and the run's times."""

    events: tuple[AccessEvent, ...] = ()
    sources: Mapping[str, AccessSource] | None = None
    run_at: float | None = None
    success: bool = True

    def record_type(self) -> type[AccessLogRecord]:
        return AccessLogRecord

    def apply(self, current: AccessLogRecord | None) -> AccessLogRecord:
        old = current or AccessLogRecord()
        kinds = {k: int(old.events_total.get(k, 0)) for k in KINDS}
        failed = dict(old.failed_total)
        days = {d: dict(c) for d, c in old.days.items()}
        for event in self.events:
            kinds[event.kind] = kinds.get(event.kind, 0) + 1
            if event.kind == "failed_login":
                failed[event.source] = failed.get(event.source, 0) + 1
            day = days.setdefault(time.strftime("%Y-%m-%d", time.localtime(event.ts)), {})
            day[event.kind] = day.get(event.kind, 0) + 1
        connected = [e.to_json() for e in self.events if e.kind == "usb" and e.service == "connected"]
        recent = (*old.usb_recent, *connected)[-USB_RECENT:]
        kept = dict(sorted(days.items())[-DAYS_KEPT:])
        new = replace(old, events_total=kinds, failed_total=failed, days=kept, usb_recent=recent)
        if self.run_at is None:
            return new
        last_success = self.run_at if self.success else old.last_success
        return replace(new, sources=dict(self.sources or {}), last_run=self.run_at,
                       last_success=last_success, success=self.success)  # fmt: skip
