"""Machine-room events as they happened (record "device_events"): traps and polling rounds,
newest first ("10:42 UPS ups-room1 on battery; backup started"), with the links a trap
reported down and the devices that announced a restart. The daily report shows the day's
events with the same table (`events_table`)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from agent.records.base import StateError
from agent.records.events import DeviceEvent, DeviceEvents
from agent.state import Snapshot
from agent.web.text import e, t, when

SHOWN = 20
_LEVEL = {"on_battery": "crit", "battery_low": "crit", "down": "crit", "link_down": "warn",
          "cold_start": "warn", "warm_start": "warn", "ups_alarm": "warn"}  # fmt: skip


def events_section(snapshot: Snapshot, lang: str) -> str:
    try:
        stored = snapshot.get(DeviceEvents)
    except StateError as exc:  # shown as hostward_state_record_valid{kind="device_events"} 0
        return f'<section id="device-events"><p class="error">{e(str(exc))}</p></section>'
    if stored is None:
        return ""  # no trap receiver and no transition yet: nothing to say
    events = stored.record
    parts = [f'<section id="device-events"><h2>{t(lang, "机房事件", "Machine-room events")}</h2>']
    parts.append(events_table(list(reversed(events.events[-SHOWN:])), lang, "events"))
    down = [
        f"{device} {port}" for device, ports in sorted(events.links_down.items()) for port in sorted(ports)
    ]
    if down:
        label = t(lang, "链路断开（告警）：", "Links down (traps): ")
        parts.append(f'<p class="warn" id="links-down">{label}{e(", ".join(down))}</p>')
    if events.dropped:
        dropped = ", ".join(f"{reason} {n}" for reason, n in sorted(events.dropped.items()))
        parts.append(
            f'<p class="meta" id="traps-dropped">{t(lang, "丢弃的告警：", "Traps dropped: ")}{e(dropped)}</p>'
        )
    return "".join(parts) + "</section>"


def events_table(events: Sequence[DeviceEvent], lang: str, table_id: str) -> str:
    if not events:
        return f'<p class="ok" id="{table_id}-none">{t(lang, "无机房事件。", "No machine-room event.")}</p>'
    rows = [
        f'<tr data-event="{e(ev.kind)}" class="{_LEVEL.get(ev.kind, "ok")}"><td>{_clock(ev.at)}</td>'
        f"<td>{e(ev.device)}</td><td>{e(ev.said(lang))}</td>"
        f"<td>{t(lang, '告警' if ev.source == 'trap' else '轮询', ev.source)}</td></tr>"
        for ev in events
    ]
    head = "".join(f"<th>{t(lang, zh, en)}</th>" for zh, en in
                   (("时间", "Time"), ("设备", "Device"), ("事件", "Event"), ("来源", "Source")))  # fmt: skip
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _clock(at: float) -> str:
    """HH:MM for today's events, the date too for older ones."""
    if time.strftime("%Y-%m-%d", time.localtime(at)) == time.strftime("%Y-%m-%d"):
        return e(time.strftime("%H:%M", time.localtime(at)))
    return when(at)
