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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from agent.journal import Journal
from agent.records.base import StateError
from agent.records.events import DeviceEvent, DeviceEvents, DeviceEventsUpdate
from agent.state import State
from collectors.devices.outages import Changes
from common.errors import HostwardError

log = logging.getLogger(__name__)

RECORD_KIND = DeviceEvents.KIND
PER_ROUND = 10  # devices down (or back) in one round named one event each; more: one event


def read(state: State) -> DeviceEvents:
    """The stored events; none when there are none yet or the record is unreadable (logged)."""
    try:
        stored = state.record(DeviceEvents)
    except StateError as exc:
        log.warning("%s", exc)
        return DeviceEvents()
    return stored.record if stored is not None else DeviceEvents()


def add(
    state: State,
    state_dir: Path | None,
    events: Iterable[DeviceEvent] = (),
    change: Callable[[DeviceEvents], DeviceEvents] | None = None,
) -> DeviceEvents:
    """Journal each event, then append `events` (and apply `change`) to the record in one
    transaction: whoever sees an event on the status page or /metrics finds it in the journal."""
    new_events = tuple(events)
    for event in new_events:
        log.log(logging.INFO if event.kind in _QUIET else logging.WARNING, "device event: %s", event.text)
        if state_dir is not None:
            _journal(state_dir, event)
    current = DeviceEvents()
    try:
        current = state.put_record(DeviceEventsUpdate(new_events, change))
    except HostwardError as exc:
        log.error("cannot store device events: %s", exc)
    return current


# what BAK-6 did (agent.actions.devices.backup_now), in Chinese
_BACKUP_ZH = {"backup started": "已开始备份", "a backup is already running": "备份已在进行",
              "no backup is configured on this host": "本机未配置备份",
              "backup could not be started": "备份无法启动"}  # fmt: skip


def poll_events(
    now: float, changes: Changes, on_battery: Mapping[str, str], on_mains: Iterable[str]
) -> list[DeviceEvent]:
    """The events of a polling round: devices down and back, UPSes that left mains power
    (`on_battery`: {ups: what BAK-6 did}) and came back. More than `PER_ROUND` devices down (or
    back) in one round are one event naming them (a switch feeding 800 devices failing must
    not cost 800 journal entries inside the round's time budget)."""
    happened: list[DeviceEvent] = []
    if len(changes.started) > PER_ROUND:
        happened.append(_many(now, "down", [o.target for o in changes.started], "down", "故障"))
    else:
        happened += [DeviceEvent(now, o.target, "down", f"{o.target} down: {o.reason}", "poll",
                                 f"{o.target} 故障：{o.reason}") for o in changes.started]  # fmt: skip
    if len(changes.ended) > PER_ROUND:
        happened.append(_many(now, "back", [o.target for o in changes.ended], "back", "已恢复"))
    else:
        for o in changes.ended:
            seconds = o.seconds(now)
            en, zh = f"{o.target} back after {seconds:.0f}s", f"{o.target} 已恢复（故障 {seconds:.0f} 秒）"
            happened.append(DeviceEvent(now, o.target, "back", en, "poll", zh))
    for ups, said in on_battery.items():
        happened.append(DeviceEvent(now, ups, "on_battery", f"UPS {ups} on battery; {said}", "poll",
                                    f"UPS {ups} 转电池供电；{_BACKUP_ZH.get(said, said)}"))  # fmt: skip
    for ups in on_mains:
        happened.append(
            DeviceEvent(now, ups, "on_mains", f"UPS {ups} back on mains", "poll", f"UPS {ups} 恢复市电供电")
        )
    return happened


def _many(now: float, kind: str, targets: list[str], en: str, zh: str) -> DeviceEvent:
    names = ", ".join(targets[:PER_ROUND]) + (
        f" … (+{len(targets) - PER_ROUND})" if len(targets) > PER_ROUND else ""
    )
    return DeviceEvent(now, f"{len(targets)} devices", kind, f"{len(targets)} devices {en}: {names}", "poll",
                       f"{len(targets)} 台设备{zh}：{names}")  # fmt: skip


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
