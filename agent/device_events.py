"""Machine-room events as they happen: record kind "device_events", a bounded table.

Written in one place (`add`), read by the exporter, the status page and the daily report
(`DeviceEvents.from_json`). It holds:
- `events`: the last `MAX_EVENTS` events, oldest first ("10:42 UPS ups-1 on battery; backup
  started"), from traps (`source` "trap") and from polling rounds (SNMP or NUT: "poll");
- `received` / `dropped`: trap counters by kind and by drop reason (monotonic while the record
  lives: the Prometheus counters hostward_traps_received_total / _dropped_total);
- `links_down`: {device: {interface: since}} from linkDown traps not yet followed by linkUp
  (or a poll that saw the interface up);
- `restarts`: {device: {"at": t, "kind": "cold_start"|"warm_start"}}, the last restart trap.
Every event is also journaled (kind "device.event"). A journal or state failure is logged and
never stops the receiver or the job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agent.journal import Journal
from agent.state import State
from collectors.errors import HostwardError

log = logging.getLogger(__name__)

RECORD_KIND = "device_events"
MAX_EVENTS = 200
_LOCK = threading.Lock()  # the receiver's handler and the device jobs of this process


@dataclass(frozen=True)
class DeviceEvent:
    at: float
    device: str
    kind: str  # on_battery, on_mains, battery_low, link_down, cold_start, down, back, ...
    text: str  # one line for people, e.g. "UPS ups-1 on battery; backup started"
    source: str = "trap"  # trap or poll

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "device": self.device, "kind": self.kind, "text": self.text,
                "source": self.source}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeviceEvent:
        return cls(float(data["at"]), str(data["device"]), str(data["kind"]), str(data["text"]),
                   str(data.get("source", "trap")))  # fmt: skip


@dataclass(frozen=True)
class DeviceEvents:
    version: int = 1
    events: tuple[DeviceEvent, ...] = ()
    received: Mapping[str, int] = field(default_factory=dict)
    dropped: Mapping[str, int] = field(default_factory=dict)
    links_down: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    restarts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "events": [e.to_json() for e in self.events],
            "received": dict(self.received),
            "dropped": dict(self.dropped),
            "links_down": {d: dict(links) for d, links in self.links_down.items()},
            "restarts": {d: dict(r) for d, r in self.restarts.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> DeviceEvents:
        """Unreadable parts are left out (logged), never guessed."""
        if not data:
            return cls()
        try:
            return cls(
                int(data.get("version", 1)),
                tuple(DeviceEvent.from_json(e) for e in data.get("events", ())),
                {str(k): int(v) for k, v in dict(data.get("received") or {}).items()},
                {str(k): int(v) for k, v in dict(data.get("dropped") or {}).items()},
                {
                    str(d): {str(i): float(t) for i, t in dict(v).items()}
                    for d, v in dict(data.get("links_down") or {}).items()
                },
                {str(d): dict(v) for d, v in dict(data.get("restarts") or {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("device_events record unreadable: %s", exc)
            return cls()

    def since(self, start: float, end: float | None = None) -> list[DeviceEvent]:
        return [e for e in self.events if e.at >= start and (end is None or e.at < end)]


def read(state: State) -> DeviceEvents:
    record = state.record(RECORD_KIND)
    return DeviceEvents.from_json(record.payload if record is not None else None)


def add(
    state: State,
    state_dir: Path | None,
    events: Iterable[DeviceEvent] = (),
    change: Callable[[DeviceEvents], DeviceEvents] | None = None,
) -> DeviceEvents:
    """Append `events` (and apply `change`) to the record, journal each event; one
    read-modify-write at a time in this process."""
    new_events = tuple(events)
    with _LOCK:
        current = read(state)
        if change is not None:
            current = change(current)
        if new_events:
            current = replace(current, events=(*current.events, *new_events)[-MAX_EVENTS:])
        try:
            state.put_record(RECORD_KIND, current.to_json())
        except HostwardError as exc:
            log.error("cannot store device events: %s", exc)
    for event in new_events:
        log.log(logging.INFO if event.kind in _QUIET else logging.WARNING, "device event: %s", event.text)
        if state_dir is not None:
            _journal(state_dir, event)
    return current


_QUIET = frozenset({"on_mains", "back", "link_up", "battery_ok", "ups_test"})


def _journal(state_dir: Path, event: DeviceEvent) -> None:
    try:
        Journal(state_dir).append("device.event", event.to_json())
    except HostwardError as exc:
        log.error("cannot write the journal: %s", exc)


def counted(
    received: Mapping[str, int], dropped: Mapping[str, int]
) -> Callable[[DeviceEvents], DeviceEvents]:
    """A `change` adding trap counts."""

    def change(current: DeviceEvents) -> DeviceEvents:
        got, lost = dict(current.received), dict(current.dropped)
        for kind, n in received.items():
            got[kind] = got.get(kind, 0) + n
        for reason, n in dropped.items():
            lost[reason] = lost.get(reason, 0) + n
        return replace(current, received=got, dropped=lost)

    return change
