"""The "devices" record (the last state of every SNMP device, its outage book, the rounds, this
host's heartbeat, the UPSes' on-battery flags) and the "device_configs" record (the last SSH
config backup of each device). Its writers are updates (agent/records/devices_updates.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any, ClassVar

from agent.records.base import Reader, malformed, start, wrap
from collectors.devices.outages import Outage
from collectors.devices.records import DeviceResult, result_from_dict
from common.frozen import frozen


@frozen
class ClosedOutage:
    """An outage that ended; `over` names the thresholds (2h, 4h) it lasted past."""

    target: str
    start: float
    end: float
    seconds: float
    reason: str = ""
    over: tuple[str, ...] = ()


@frozen
class OutageBook:
    """ROOM-2 bookkeeping of devices and of this host (collectors/devices/outages.py keeps it as
    JSON between rounds; this is its typed, read-only view)."""

    open: tuple[Outage, ...] = ()
    history: tuple[ClosedOutage, ...] = ()  # newest last
    totals: Mapping[str, float] = field(default_factory=dict)
    over_totals: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    last_restore_seconds: Mapping[str, float] = field(default_factory=dict)
    book: Mapping[str, Any] = field(default_factory=dict)  # the JSON form, for outages.update

    @classmethod
    def read(cls, r: Reader) -> OutageBook:
        opened = []
        entries = r.obj("open")
        for target in entries.data if entries is not None else {}:
            assert entries is not None
            o = entries.obj(str(target))
            if o is not None:
                opened.append(Outage(str(target), o.number("start"), None, o.text("reason", "")))
        history = []
        for i, item in enumerate(r.items("history")):
            h = Reader(r.kind, item, f"{r.name('history')}[{i}]")
            history.append(ClosedOutage(
                h.text("target"), h.number("start"), h.number("end"), h.number("seconds"),
                h.text("reason", ""), h.texts("over")))  # fmt: skip
        over = r.obj("over_totals")
        over_totals = {str(t): over.numbers(str(t)) for t in over.data} if over is not None else {}
        return cls(tuple(opened), tuple(history), r.numbers("totals"), over_totals,
                   r.numbers("last_restore_seconds"), dict(r.data))  # fmt: skip


@frozen
class DevicesRecord:
    """The last result of every SNMP device, the outage book, when each round last ran, this host's
    heartbeat and the UPSes' on-battery flags."""

    KIND: ClassVar[str] = "devices"
    VERSION: ClassVar[int] = 1

    devices: tuple[DeviceResult, ...] = ()
    outages: OutageBook = field(default_factory=OutageBook)
    rounds: Mapping[str, float] = field(default_factory=dict)  # round name -> when it last ran
    # when a round last ran on this host (a longer gap is an outage of the host); None: not yet
    host_last_seen: float | None = None
    # UPS name -> on battery, as the last round or trap saw it (BAK-6 acts on a change); None:
    # written before this field (the flags were then a key/value entry)
    on_battery: Mapping[str, bool] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"version": self.VERSION, "devices": [d.to_dict() for d in self.devices],
               "outages": dict(self.outages.book), "rounds": dict(self.rounds)}  # fmt: skip
        if self.host_last_seen is not None:
            out["host_last_seen"] = self.host_last_seen
        if self.on_battery is not None:
            out["on_battery"] = dict(self.on_battery)
        return out

    @classmethod
    def from_json(cls, data: Any) -> DevicesRecord:
        r = start(cls.KIND, cls.VERSION, data)
        devices = []
        for i, item in enumerate(r.items("devices")):
            if not isinstance(item, dict):
                raise malformed(cls.KIND, f"devices[{i}]", "expected an object")
            try:
                devices.append(result_from_dict(item))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise wrap(exc, cls.KIND, f"devices[{i}]") from exc
        book = r.obj("outages")
        flags = r.obj("on_battery")
        on_battery = None
        if flags is not None:
            on_battery = {str(name): flags.flag(str(name)) for name in flags.data}
        return cls(tuple(devices), OutageBook.read(book) if book is not None else OutageBook(),
                   r.numbers("rounds"), r.opt_number("host_last_seen"), on_battery)  # fmt: skip


@frozen
class ConfigBackup:
    """The last SSH config backup of one device."""

    name: str
    ok: bool
    changed: bool
    reason: str = ""
    version: int = 0
    versions: int = 0
    last_change: float | None = None
    hostname: str = ""
    diff_lines: int = 0
    host_key_mismatch: bool = False
    diff_file: str = ""  # the unified diff from the previous version, when changed

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def read(cls, r: Reader) -> ConfigBackup:
        return cls(r.text("name"), r.flag("ok"), r.flag("changed", False), r.text("reason", ""),
                   r.integer("version", 0), r.integer("versions", 0), r.opt_number("last_change"),
                   r.text("hostname", ""), r.integer("diff_lines", 0), r.flag("host_key_mismatch", False),
                   r.text("diff_file", ""))  # fmt: skip


@frozen
class DeviceConfigsRecord:
    """The last SSH config backup of each device."""

    KIND: ClassVar[str] = "device_configs"
    VERSION: ClassVar[int] = 1

    devices: tuple[ConfigBackup, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"version": self.VERSION, "devices": [d.to_json() for d in self.devices]}

    @classmethod
    def from_json(cls, data: Any) -> DeviceConfigsRecord:
        r = start(cls.KIND, cls.VERSION, data)
        return cls(tuple(ConfigBackup.read(Reader(cls.KIND, item, f"devices[{i}]"))
                         for i, item in enumerate(r.items("devices"))))  # fmt: skip
