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
from agent.web.markup import EMPTY, Markup, header_row, html, join
from agent.web.text import t, when

SHOWN = 20
_LEVEL = {"on_battery": "crit", "battery_low": "crit", "down": "crit", "link_down": "warn",
          "cold_start": "warn", "warm_start": "warn", "ups_alarm": "warn"}  # fmt: skip


def events_section(snapshot: Snapshot, lang: str) -> Markup:
    try:
        stored = snapshot.get(DeviceEvents)
    except StateError as exc:  # shown as hostward_state_record_valid{kind="device_events"} 0
        return html('<section id="device-events"><p class="error">{}</p></section>', exc)
    if stored is None:
        return EMPTY  # no trap receiver and no transition yet: nothing to say
    events = stored.record
    parts = [html('<section id="device-events"><h2>{}</h2>', t(lang, "机房事件", "Machine-room events"))]
    parts.append(events_table(list(reversed(events.events[-SHOWN:])), lang, "events"))
    down = [
        f"{device} {port}" for device, ports in sorted(events.links_down.items()) for port in sorted(ports)
    ]
    if down:
        label = t(lang, "链路断开（告警）：", "Links down (traps): ")
        parts.append(html('<p class="warn" id="links-down">{}{}</p>', label, ", ".join(down)))
    if events.dropped:
        dropped = ", ".join(f"{reason} {n}" for reason, n in sorted(events.dropped.items()))
        label = t(lang, "丢弃的告警：", "Traps dropped: ")
        parts.append(html('<p class="meta" id="traps-dropped">{}{}</p>', label, dropped))
    return join(parts) + Markup("</section>")


def events_table(events: Sequence[DeviceEvent], lang: str, table_id: str) -> Markup:
    if not events:
        none = t(lang, "无机房事件。", "No machine-room event.")
        return html('<p class="ok" id="{}-none">{}</p>', table_id, none)
    rows = join(
        html(
            '<tr data-event="{}" class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            ev.kind,
            _LEVEL.get(ev.kind, "ok"),
            _clock(ev.at),
            ev.device,
            ev.said(lang),
            t(lang, "告警" if ev.source == "trap" else "轮询", ev.source),
        )
        for ev in events
    )
    head = header_row(lang, (("时间", "Time"), ("设备", "Device"), ("事件", "Event"), ("来源", "Source")))
    return html('<table id="{}">{}<tbody>{}</tbody></table>', table_id, head, rows)


def _clock(at: float) -> str:
    """HH:MM for today's events, the date too for older ones."""
    if time.strftime("%Y-%m-%d", time.localtime(at)) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M", time.localtime(at))
    return when(at)
