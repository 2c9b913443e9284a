"""The "device_events" record: machine-room events as they happen, a bounded table
(agent/device_events.py writes it and builds the events; see there for what each part means).

Written through `DeviceEventsUpdate` only, applied inside the state's transaction: the trap
receiver (in the daemon) and the device jobs (in worker processes) both add to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field, replace
from typing import Any, ClassVar

from agent.records.base import start, wrap
from common.frozen import frozen

MAX_EVENTS = 200


@frozen
class DeviceEvent:
    """One machine-room event (Unix time), in English and Chinese, from a trap or a poll."""

    at: float
    device: str
    kind: str  # on_battery, on_mains, battery_low, link_down, cold_start, down, back, ...
    text: str  # one line for people, e.g. "UPS ups-1 on battery; backup started"
    source: str = "trap"  # trap or poll
    text_zh: str = ""  # the same in Chinese (the status page and the report in zh)

    def said(self, lang: str) -> str:
        return self.text_zh if lang == "zh" and self.text_zh else self.text

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "device": self.device, "kind": self.kind, "text": self.text,
                "source": self.source, "text_zh": self.text_zh}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeviceEvent:
        return cls(float(data["at"]), str(data["device"]), str(data["kind"]), str(data["text"]),
                   str(data.get("source", "trap")), str(data.get("text_zh", "")))  # fmt: skip


@frozen
class DeviceEvents:
    """The recent machine-room events, the trap counters, the links down and each device's last
    restart (agent/device_events.py says what each holds)."""

    KIND: ClassVar[str] = "device_events"
    VERSION: ClassVar[int] = 1

    events: tuple[DeviceEvent, ...] = ()
    received: Mapping[str, int] = field(default_factory=dict)
    dropped: Mapping[str, int] = field(default_factory=dict)
    links_down: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    restarts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "events": [e.to_json() for e in self.events],
            "received": dict(self.received),
            "dropped": dict(self.dropped),
            "links_down": {d: dict(links) for d, links in self.links_down.items()},
            "restarts": {d: dict(r) for d, r in self.restarts.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> DeviceEvents:
        r = start(cls.KIND, cls.VERSION, data)
        try:
            return cls(
                tuple(DeviceEvent.from_json(e) for e in r.items("events")),
                {str(k): int(v) for k, v in r.numbers("received").items()},
                {str(k): int(v) for k, v in r.numbers("dropped").items()},
                {
                    str(d): {str(i): float(t) for i, t in dict(v).items()}
                    for d, v in r.mapping("links_down").items()
                },
                {str(d): dict(v) for d, v in r.mapping("restarts").items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise wrap(exc, cls.KIND, "events") from exc

    def since(self, start: float, end: float | None = None) -> list[DeviceEvent]:
        return [e for e in self.events if e.at >= start and (end is None or e.at < end)]




@frozen
class DeviceEventsUpdate:
    """`events` appended (the last MAX_EVENTS kept), after `change` (a trap's counters, links,
    restarts; the receiver's own, never sent between processes)."""

    events: tuple[DeviceEvent, ...] = ()
    change: Callable[[DeviceEvents], DeviceEvents] | None = None

    def record_type(self) -> type[DeviceEvents]:
        return DeviceEvents

    def apply(self, current: DeviceEvents | None) -> DeviceEvents:
        new = current or DeviceEvents()
        if self.change is not None:
            new = self.change(new)
        if self.events:
            new = replace(new, events=(*new.events, *self.events)[-MAX_EVENTS:])
        return new
