"""Outage bookkeeping (ROOM-2: a fault is cleared within 2 hours, 4 at most). Pure logic.

The book is a JSON-ready dict kept by the caller between rounds:
`{"open": {target: {"start": t, "reason": s}}, "history": [closed outages, newest last],
"totals": {target: n}, "last_restore_seconds": {target: s},
"over_totals": {target: {"2h": n, "4h": n}}}` (closed outages that lasted past each
threshold). Targets are device names and `host` (this machine). Times are epoch seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from collectors.clock import is_future
from common.frozen import frozen

THRESHOLDS_SECONDS = {"2h": 7200.0, "4h": 14400.0}
HISTORY_KEPT = 500
HOST_TARGET = "host"


@frozen
class Outage:
    """A target down from `start` until `end` (Unix times; None: still down), and why."""

    target: str
    start: float
    end: float | None
    reason: str

    def seconds(self, now: float) -> float:
        return max(0.0, (self.end if self.end is not None else now) - self.start)


@frozen
class Changes:
    """The outages one update opened and closed."""

    started: tuple[Outage, ...]
    ended: tuple[Outage, ...]


def empty_book() -> dict[str, Any]:
    return {"open": {}, "history": [], "totals": {}, "last_restore_seconds": {}, "over_totals": {}}


def update(
    book: Mapping[str, Any] | None, observed: Mapping[str, tuple[bool, str]], now: float
) -> tuple[dict[str, Any], Changes]:
    """Apply one round of observations {target: (up, reason)}. Returns (new book, changes).

    A target not observed this round keeps its state (a device removed from the config keeps
    an open outage until it is seen again or the book is pruned by `forget`).
    """
    new = copy.deepcopy(dict(book)) if book else empty_book()
    for key, value in empty_book().items():
        new.setdefault(key, value)
    started: list[Outage] = []
    ended: list[Outage] = []
    for current in new["open"].values():
        # Opened while the clock ran ahead: its length would stay negative (never past 2 h or
        # 4 h) until the clock caught up. Counted from now instead, and marked.
        if is_future(float(current.get("start", now)), now):
            current["start"], current["restamped"] = now, True
    for target, (up, reason) in observed.items():
        current = new["open"].get(target)
        if not up and current is None:
            new["open"][target] = {"start": now, "reason": reason}
            new["totals"][target] = new["totals"].get(target, 0) + 1
            started.append(Outage(target, now, None, reason))
        elif not up and current is not None:
            current["reason"] = reason
        elif up and current is not None:
            del new["open"][target]
            ended.append(_close(new, target, float(current["start"]), now, str(current["reason"])))
    return new, Changes(tuple(started), tuple(ended))


def record_host_gap(
    book: Mapping[str, Any] | None,
    last_seen: float | None,
    now: float,
    max_gap: float,
    boot_time: float | None = None,
) -> tuple[dict[str, Any], Outage | None]:
    """The agent's own host: if the agent was not seen for longer than `max_gap` (host down or
    agent stopped), record a closed outage from `last_seen` to now. A reboot inside the gap
    (`boot_time > last_seen`) says the host itself was down, which the reason tells."""
    new = copy.deepcopy(dict(book)) if book else empty_book()
    for key, value in empty_book().items():
        new.setdefault(key, value)
    if last_seen is None or now - last_seen <= max_gap:
        return new, None
    rebooted = boot_time is not None and boot_time > last_seen
    reason = "host rebooted (down or powered off)" if rebooted else "agent not running"
    new["totals"][HOST_TARGET] = new["totals"].get(HOST_TARGET, 0) + 1
    return new, _close(new, HOST_TARGET, last_seen, now, reason)


def open_outages(book: Mapping[str, Any] | None) -> list[Outage]:
    if not book:
        return []
    return [
        Outage(t, float(o["start"]), None, str(o.get("reason", ""))) for t, o in book.get("open", {}).items()
    ]


def over_thresholds(outage: Outage, now: float) -> dict[str, bool]:
    """{"2h": True/False, "4h": ...}: has this outage lasted past each threshold?"""
    return {name: outage.seconds(now) >= limit for name, limit in THRESHOLDS_SECONDS.items()}


def _close(book: dict[str, Any], target: str, start: float, end: float, reason: str) -> Outage:
    outage = Outage(target, start, end, reason)
    seconds = outage.seconds(end)
    book["last_restore_seconds"][target] = seconds
    over = book["over_totals"].setdefault(target, {})
    for name, limit in THRESHOLDS_SECONDS.items():
        over[name] = over.get(name, 0) + (1 if seconds >= limit else 0)
    book["history"].append(
        {
            "target": target,
            "start": start,
            "end": end,
            "seconds": seconds,
            "reason": reason,
            "over": [name for name, limit in THRESHOLDS_SECONDS.items() if seconds >= limit],
        }
    )
    del book["history"][:-HISTORY_KEPT]
    return outage
