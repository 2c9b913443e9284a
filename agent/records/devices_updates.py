"""The two writers of the "devices" record, as updates State applies inside one transaction.

A polling round (`DevicesRoundUpdate`: the scheduled rounds in a worker, `hostward devices
poll`) and a trap (`DevicesPatch`: the daemon's receiver) each read the stored record, change
the outage book (ROOM-2), this host's heartbeat and the on-battery flags (BAK-6) in it, and
write it back. Done in one `BEGIN IMMEDIATE`, neither loses the other's change, whichever
process they run in. Each update is pure: the caller gets the record it was applied to
(State.update_record) and calls `outcome(before)` for what changed (outages opened and
closed, UPSes that left or regained mains power), exactly as the transaction saw it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from agent.records.base import Reader
from agent.records.devices import DevicesRecord, OutageBook
from collectors.devices import outages
from collectors.devices.records import DeviceResult, result_from_dict
from common.frozen import frozen


@frozen
class Legacy:
    """The heartbeat and on-battery flags as older versions kept them (key/value entries
    `devices.host_last_seen`, `devices.ups_on_battery`): used while the record has none."""

    last_seen: float | None = None
    on_battery: Mapping[str, bool] | None = None


@frozen
class RoundOutcome:
    """What a round's update made: the new record, the device outages opened or closed, the outage of
    this host its heartbeat gap shows (None: none), and the UPSes that moved to battery or back."""

    record: DevicesRecord
    changes: outages.Changes
    host_outage: outages.Outage | None
    went: tuple[str, ...]  # UPSes that left mains power (taken over only with `battery`)
    back: tuple[str, ...]  # UPSes back on mains


def _book(current: DevicesRecord | None) -> dict[str, Any] | None:
    return dict(current.outages.book) if current is not None and current.outages.book else None


def _typed(book: Mapping[str, Any]) -> OutageBook:
    return OutageBook.read(Reader(DevicesRecord.KIND, dict(book), "outages"))


def _flags(current: DevicesRecord | None, legacy: Legacy) -> dict[str, bool]:
    if current is not None and current.on_battery is not None:
        return dict(current.on_battery)
    return dict(legacy.on_battery or {})


@frozen
class DevicesRoundUpdate:
    """One polling round: its results merged with the other round's last ones (in config order,
    a device no longer configured dropped), the outages it saw, this host's heartbeat (a gap
    longer than `max_gap` is an outage of this host), the round's time. `battery`: the round
    takes over a UPS's move to battery (False: `hostward devices poll`, which has no scheduler
    to start a backup, leaves it to the daemon's next round; a move back to mains it takes)."""

    results: tuple[DeviceResult, ...]
    order: tuple[str, ...]  # the configured SNMP devices, in config order
    round_: str
    now: float
    replace_all: bool  # a round of every device: the other round's results and times go
    max_gap: float = 300.0
    boot_time: float | None = None
    battery: bool = True
    legacy: Legacy = field(default_factory=Legacy)

    def record_type(self) -> type[DevicesRecord]:
        return DevicesRecord

    def apply(self, current: DevicesRecord | None) -> DevicesRecord:
        return self.outcome(current).record

    def outcome(self, current: DevicesRecord | None) -> RoundOutcome:
        last_seen = current.host_last_seen if current is not None else None
        if last_seen is None:
            last_seen = self.legacy.last_seen
        book, host_outage = outages.record_host_gap(_book(current), last_seen, self.now, self.max_gap,
                                                    self.boot_time)  # fmt: skip
        observed = {r.name: (r.up, r.reason) for r in self.results}
        observed.update(_links_seen_up(book, self.results))
        book, changes = outages.update(book, observed, self.now)
        flags = _flags(current, self.legacy)
        seen = dict(flags)
        went, back = _battery_transitions(self.results, seen)
        for name in went if not self.battery else ():  # left to a round that can start a backup
            if name in flags:
                seen[name] = flags[name]
            else:
                seen.pop(name)
        keep = current is not None and not self.replace_all
        kept = {d.name: d for d in current.devices} if current is not None and keep else {}
        kept.update((r.name, r) for r in self.results)
        polled = dict(current.rounds) if current is not None and keep else {}
        polled[self.round_] = self.now
        devices = tuple(kept[n] for n in self.order if n in kept)
        record = DevicesRecord(devices, _typed(book), polled, self.now, seen)
        return RoundOutcome(record, changes, host_outage, went, back)


@frozen
class DevicesPatch:
    """A trap's news, in the daemon: outages of the `observed` targets opened or closed, `patch`
    applied to the entry of `device` (added from `blank` when the device was never polled), the
    UPS's on-battery flag set (None: the trap does not say)."""

    device: str
    now: float
    observed: Mapping[str, tuple[bool, str]] = field(default_factory=dict)
    patch: Callable[[dict[str, Any]], None] | None = None
    on_battery: bool | None = None
    blank: DeviceResult | None = None
    legacy: Legacy = field(default_factory=Legacy)

    def record_type(self) -> type[DevicesRecord]:
        return DevicesRecord

    def apply(self, current: DevicesRecord | None) -> DevicesRecord:
        return self.outcome(current)[0]

    def outcome(self, current: DevicesRecord | None) -> tuple[DevicesRecord, outages.Changes, bool]:
        """The record, the outage changes, whether the UPS has just left mains power."""
        old = current or DevicesRecord()
        book, changes = outages.update(_book(current), self.observed, self.now)
        flags = _flags(current, self.legacy)
        went = bool(self.on_battery) and not flags.get(self.device, False)
        if self.on_battery is not None:
            flags[self.device] = self.on_battery
        entries = [d.to_dict() for d in old.devices]
        if self.blank is not None and not any(e.get("name") == self.device for e in entries):
            entries.append(self.blank.to_dict())
        for entry in entries:
            if self.patch is not None and entry.get("name") == self.device:
                self.patch(entry)
        devices = tuple(result_from_dict(e) for e in entries)
        return DevicesRecord(devices, _typed(book), old.rounds, old.host_last_seen, flags), changes, went


def _battery_transitions(
    results: tuple[DeviceResult, ...], flags: dict[str, bool]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(UPSes that left mains power, UPSes back on mains) since the last round or trap; `flags`
    is updated to what this round saw."""
    went, back = [], []
    for result in results:
        if result.ups is None:
            continue
        if result.ups.on_battery and not flags.get(result.name, False):
            went.append(result.name)
        elif not result.ups.on_battery and flags.get(result.name, False):
            back.append(result.name)
        flags[result.name] = result.ups.on_battery
    return tuple(went), tuple(back)


def _links_seen_up(book: Mapping[str, Any], results: tuple[DeviceResult, ...]) -> dict[str, tuple[bool, str]]:
    """Outages opened by a linkDown trap ("device/port") that this round saw up again."""
    open_targets = set(book.get("open", {}))
    seen: dict[str, tuple[bool, str]] = {}
    for result in results:
        for interface in result.interfaces:
            for port in (interface.name, f"if{interface.index}"):
                if interface.up and f"{result.name}/{port}" in open_targets:
                    seen[f"{result.name}/{port}"] = (True, "")
    return seen
