"""What one accepted trap changes, at once: the device's state, BAK-6, the event.

- UPS on battery: the UPS entry says on battery; the first time since mains, the backup job is
  started now (BAK-6, through the scheduler's `run_now`, as the power round does).
- battery low / no longer low (upsTrapAlarmEntryAdded/Removed with upsAlarmLowBattery): the
  battery status.
- linkDown / linkUp: an outage of "device/interface" opened or closed (ROOM-2), the interface
  entry updated, the `links_down` table of the events record.
- coldStart / warmStart: the device announced itself, so an open outage of it is closed; the
  restart is kept (`restarts`) for the "device restarted" alert.
Every trap becomes one `DeviceEvent` (journaled); kinds without a state (test completed, other
UPS alarms, unknown trap OIDs) only that.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.actions.devices import apply_trap_state
from agent.device_events import add
from agent.records.events import DeviceEvent, DeviceEvents
from agent.state import State
from collectors.devices.config import DeviceConfig
from collectors.devices.records import DeviceResult, UpsStatus
from collectors.devices.traps import TrapEvent
from common.frozen import frozen

log = logging.getLogger(__name__)

# run_now's answer -> (en, zh)
_BACKUP_WORDS = {"started": ("backup started", "已开始备份"),
                 "busy": ("a backup is already running", "备份已在进行"),
                 "unknown": ("no backup is configured on this host", "本机未配置备份")}  # fmt: skip


@frozen
class Effects:
    """What the trap receiver changes: the state, the journal in `state_dir` (None: not journaled),
    and the scheduler's `run_now` for BAK-6 (None: no scheduler)."""

    state: State
    state_dir: Path | None
    request_run: Callable[[str], str] | None

    def apply(self, device: DeviceConfig, event: TrapEvent, now: float,
              change: Callable[[DeviceEvents], DeviceEvents] | None = None) -> DeviceEvent:  # fmt: skip
        """Apply `event` from `device`; `change` (trap counters) goes into the same write."""
        (text, text_zh), links = _handlers.get(event.kind, _other)(self, device, event, now)
        happened = DeviceEvent(now, device.name, event.kind, text, "trap", text_zh)

        def both(current: DeviceEvents) -> DeviceEvents:
            current = change(current) if change is not None else current
            return links(current) if links is not None else current

        add(self.state, self.state_dir, (happened,), both)
        return happened

    def backup(self, ups: str) -> tuple[str, str]:
        """BAK-6 now; what happened (en, zh)."""
        if self.request_run is None:
            return "no scheduler to start a backup from", "无调度器，未能启动备份"
        try:
            return _BACKUP_WORDS.get(self.request_run("backup"), ("backup not started", "未启动备份"))
        except Exception:  # the trap is still recorded
            log.exception("BAK-6: could not start the backup for UPS %s", ups)
            return "backup could not be started", "备份无法启动"


Change = Callable[[DeviceEvents], DeviceEvents] | None
Said = tuple[str, str]  # en, zh
Handler = Callable[[Effects, DeviceConfig, TrapEvent, float], tuple[Said, Change]]


_BLANK_UPS = UpsStatus(False, "unknown", "unknown", None, None, None, None, None, (), (), ())


def _blank(device: DeviceConfig) -> DeviceResult:
    """The entry of a UPS not polled yet: up (it sent a trap), nothing else known."""
    return DeviceResult(device.name, device.kind, device.site, True, "", 0.0, ups=_BLANK_UPS)


def _ups_patch(**values: Any) -> Callable[[dict[str, Any]], None]:
    def patch(entry: dict[str, Any]) -> None:
        ups = entry.get("ups")
        if not isinstance(ups, dict):
            ups = entry["ups"] = _blank_ups_dict()
        alarms = [a for a in ups.get("alarms") or () if a not in values.get("_drop", ())]
        alarms += [a for a in values.get("_add", ()) if a not in alarms]
        ups.update({k: v for k, v in values.items() if not k.startswith("_")}, alarms=alarms)

    return patch


def _blank_ups_dict() -> dict[str, Any]:
    return dataclasses.asdict(_BLANK_UPS)


def _on_battery(fx: Effects, device: DeviceConfig, event: TrapEvent, now: float) -> tuple[Said, Change]:
    patch = _ups_patch(on_battery=True, output_source="battery", _add=("on_battery",))
    _, went = apply_trap_state(fx.state, device.name, now, patch=patch, on_battery=True, blank=_blank(device))
    minutes = event.minutes_remaining
    left = f" ({minutes} min left)" if minutes is not None else ""
    left_zh = f"（剩余 {minutes} 分钟）" if minutes is not None else ""
    if not went:
        return (f"UPS {device.name} on battery{left} (already known)",
                f"UPS {device.name} 电池供电{left_zh}（已知）"), None  # fmt: skip
    en, zh = fx.backup(device.name)
    return (f"UPS {device.name} on battery{left}; {en}", f"UPS {device.name} 转电池供电{left_zh}；{zh}"), None


def _battery(fx: Effects, device: DeviceConfig, event: TrapEvent, now: float) -> tuple[Said, Change]:
    low = event.kind == "battery_low"
    patch = (_ups_patch(battery_status="low", _add=("low_battery",)) if low
             else _ups_patch(battery_status="normal", _drop=("low_battery", "depleted_battery")))  # fmt: skip
    apply_trap_state(fx.state, device.name, now, patch=patch, blank=_blank(device))
    return (f"UPS {device.name} battery {'low' if low else 'no longer low'}",
            f"UPS {device.name} 电池{'电量低' if low else '电量恢复'}"), None  # fmt: skip


def _link(fx: Effects, device: DeviceConfig, event: TrapEvent, now: float) -> tuple[Said, Change]:
    down = event.kind == "link_down"
    port = event.if_name or (f"if{event.if_index}" if event.if_index else "?")

    def patch(entry: dict[str, Any]) -> None:
        for interface in entry.get("interfaces") or ():
            if interface.get("index") == event.if_index or (
                event.if_name and interface.get("name") == event.if_name
            ):
                interface["up"] = not down

    target = f"{device.name}/{port}"
    apply_trap_state(
        fx.state, device.name, now, observed={target: (not down, "link down (trap)")}, patch=patch
    )

    def links(current: DeviceEvents) -> DeviceEvents:
        table = {d: dict(ports) for d, ports in current.links_down.items()}
        ports = table.setdefault(device.name, {})
        if down:
            ports.setdefault(port, now)
        else:
            ports.pop(port, None)
        return replace(current, links_down={d: p for d, p in table.items() if p})

    return (f"{device.name}: link {port} {'down' if down else 'up'}",
            f"{device.name}：链路 {port} {'断开' if down else '恢复'}"), links  # fmt: skip


def _restart(fx: Effects, device: DeviceConfig, event: TrapEvent, now: float) -> tuple[Said, Change]:
    changes, _ = apply_trap_state(fx.state, device.name, now, observed={device.name: (True, "")})
    back, back_zh = ("; outage closed", "；故障已结束") if changes.ended else ("", "")

    def restarts(current: DeviceEvents) -> DeviceEvents:
        return replace(current, restarts={**current.restarts, device.name: {"at": now, "kind": event.kind}})

    how, how_zh = ("cold start", "冷启动") if event.kind == "cold_start" else ("warm start", "热启动")
    return (f"{device.kind} {device.name} restarted ({how}){back}",
            f"{device.kind} {device.name} 已重启（{how_zh}）{back_zh}"), restarts  # fmt: skip


def _test(fx: Effects, device: DeviceConfig, event: TrapEvent, now: float) -> tuple[Said, Change]:
    return (f"UPS {device.name}: self-test completed", f"UPS {device.name}：自检完成"), None


def _alarm(fx: Effects, device: DeviceConfig, event: TrapEvent, now: float) -> tuple[Said, Change]:
    return (f"UPS {device.name}: alarm {event.alarm}", f"UPS {device.name}：告警 {event.alarm}"), None


def _other(fx: Effects, device: DeviceConfig, event: TrapEvent, now: float) -> tuple[Said, Change]:
    return (f"{device.name}: trap {event.trap_oid}", f"{device.name}：告警 {event.trap_oid}"), None


_handlers: dict[str, Handler] = {
    "on_battery": _on_battery, "battery_low": _battery, "battery_ok": _battery, "link_down": _link,
    "link_up": _link, "cold_start": _restart, "warm_start": _restart, "ups_test": _test,
    "ups_alarm": _alarm,
}  # fmt: skip
