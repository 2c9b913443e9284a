"""The machine room: every device up or down and why, UPS power, room climate, outages
(ROOM-1/ROOM-2), and configuration changes."""

from __future__ import annotations

import time

from agent.records.base import StateError
from agent.records.devices import ConfigBackup, DeviceConfigsRecord, DevicesRecord, OutageBook
from agent.state import Snapshot
from agent.web.text import duration, e, t, when
from collectors.devices import outages
from collectors.devices.records import DeviceResult

HOT_CELSIUS = 28.0  # machine rooms aim for 18-27 °C (ASHRAE); above 28 is worth a look


def devices_section(snapshot: Snapshot, lang: str) -> str:
    head = f'<section id="devices"><h2>{t(lang, "机房设备", "Machine room")}</h2>'
    try:
        stored = snapshot.get(DevicesRecord)
        configs = snapshot.get(DeviceConfigsRecord)
    except StateError as exc:
        unreadable = t(lang, "设备记录无法读取", "The devices record is unreadable")
        return head + f'<p class="error">{unreadable}: {e(str(exc))}</p></section>'
    if stored is None:
        return head + f'<p class="empty">{t(lang, "尚未轮询设备。", "Devices not polled yet.")}</p></section>'
    now = time.time()
    parts = [head, f'<p class="meta">{t(lang, "轮询于", "Polled at")} {when(stored.taken)}</p>']
    parts.append(_table(list(stored.record.devices), lang))
    parts.append(_outages(stored.record.outages, now, lang))
    if configs is not None:
        parts.append(_configs(configs.record.devices, lang))
    return "".join(parts) + "</section>"


def _table(results: list[DeviceResult], lang: str) -> str:
    if not results:
        return f'<p class="empty">{t(lang, "未配置SNMP设备。", "No SNMP device configured.")}</p>'
    head = "".join(
        f"<th>{t(lang, zh, en)}</th>"
        for zh, en in (("设备", "Device"), ("类型", "Kind"), ("位置", "Site"), ("状态", "State"),
                       ("运行时间", "Uptime"), ("详情", "Details"))
    )  # fmt: skip
    rows = []
    for r in results:
        state = (
            f'<span class="badge ok">{t(lang, "正常", "up")}</span>'
            if r.up
            else _bad(t(lang, "故障", "down"), r.reason)
        )
        uptime = duration(r.system.uptime_seconds, lang) if r.system and r.system.uptime_seconds else "—"
        level = "crit" if not r.up or (r.ups and r.ups.on_battery) else "ok"
        rows.append(
            f'<tr data-device="{e(r.name)}" class="{level}"><td>{e(r.name)}</td><td>{e(r.kind)}</td>'
            f"<td>{e(r.site)}</td><td>{state}</td><td>{e(uptime)}</td><td>{_details(r, lang)}</td></tr>"
        )
    return _wrap("devices-table", head, rows)


def _details(r: DeviceResult, lang: str) -> str:
    bits = []
    if r.interfaces:
        up = sum(i.up for i in r.interfaces)
        bits.append(e(f"{up}/{len(r.interfaces)} ") + t(lang, "端口在线", "ports up"))
    if r.ups is not None:
        u = r.ups
        power = (
            f'<span class="badge crit">{t(lang, "电池供电", "on battery")}</span>'
            if u.on_battery
            else f'<span class="badge ok">{t(lang, "市电供电", "on mains")}</span>'
        )
        bits.append(power)
        if u.charge_ratio is not None:
            bits.append(t(lang, "电量", "charge") + e(f" {u.charge_ratio:.0%}"))
        if u.runtime_seconds is not None:
            bits.append(t(lang, "可运行", "runtime") + " " + e(duration(u.runtime_seconds, lang)))
        if u.load_ratio is not None:
            bits.append(t(lang, "负载", "load") + e(f" {u.load_ratio:.0%}"))
        if u.alarms:
            bits.append(f'<span class="err">{t(lang, "告警", "alarms")}: {e(", ".join(u.alarms))}</span>')
    for s in r.sensors:
        if s.kind == "temperature":
            hot = s.value > HOT_CELSIUS or not s.ok
            value = f'<span class="{"err" if hot else "ok"}">{e(f"{s.value:.1f} °C")}</span>'
        else:
            value = e(f"{s.value:.0%} RH")
        bits.append(f"{e(s.name)} {value}")
    if r.warnings:
        bits.append(
            f'<span class="warn" title="{e("; ".join(r.warnings))}">'
            f"{t(lang, '部分数据缺失', 'some data missing')}</span>"
        )
    return " · ".join(bits) or "—"


def _outages(book: OutageBook, now: float, lang: str) -> str:
    open_ = book.open
    history = book.history[-10:]
    if not open_ and not history:
        return f'<p class="ok" id="outages-none">{t(lang, "无停机记录。", "No outages recorded.")}</p>'
    rows = []
    for o in open_:
        over = [name for name, passed in outages.over_thresholds(o, now).items() if passed]
        level = "crit" if over else "warn"
        rows.append(
            f'<tr class="{level}" data-target="{e(o.target)}"><td>{e(o.target)}</td><td>{when(o.start)}</td>'
            f"<td>{t(lang, '仍在停机', 'still down')}</td><td>{e(duration(o.seconds(now), lang))}</td>"
            f"<td>{e(', '.join(over) or '—')}</td><td>{e(o.reason)}</td></tr>"
        )
    for item in reversed(history):
        level = "crit" if item.over else "ok"
        rows.append(
            f'<tr class="{level}" data-target="{e(item.target)}"><td>{e(item.target)}</td>'
            f"<td>{when(item.start)}</td><td>{when(item.end)}</td>"
            f"<td>{e(duration(item.seconds, lang))}</td>"
            f"<td>{e(', '.join(item.over) or '—')}</td>"
            f"<td>{e(item.reason)}</td></tr>"
        )
    head = "".join(
        f"<th>{t(lang, zh, en)}</th>"
        for zh, en in (("对象", "Target"), ("开始", "Start"), ("恢复", "Restored"), ("时长", "Duration"),
                       ("超过时限（2h/4h）", "Past limit (2h/4h)"), ("原因", "Reason"))
    )  # fmt: skip
    title = t(lang, "停机记录（故障须在2小时内排除，最长4小时）", "Outages (clear within 2 h, 4 h at most)")
    return f"<h3>{title}</h3>" + _wrap("outages-table", head, rows)


def _configs(items: tuple[ConfigBackup, ...], lang: str) -> str:
    rows = []
    for item in items:
        if not item.ok:
            state = _bad(t(lang, "失败", "failed"), item.reason)
        elif item.changed:
            state = f'<span class="badge warn">{t(lang, "配置已变更", "changed")}</span>'
        else:
            state = f'<span class="badge ok">{t(lang, "未变更", "unchanged")}</span>'
        rows.append(
            f'<tr data-device="{e(item.name)}"><td>{e(item.name)}</td><td>{state}</td>'
            f'<td class="num">{item.version}</td><td>{when(item.last_change)}</td></tr>'
        )
    head = "".join(
        f"<th>{t(lang, zh, en)}</th>"
        for zh, en in (("设备", "Device"), ("配置备份", "Config backup"), ("版本", "Version"),
                       ("最近变更", "Last change"))
    )  # fmt: skip
    title = t(lang, "设备配置备份", "Device configuration backups")
    return f"<h3>{title}</h3>" + _wrap("device-configs-table", head, rows)


def _bad(label: str, reason: object) -> str:
    return f'<span class="badge crit">{label}</span> <span class="err">{e(reason)}</span>'


def _wrap(table_id: str, head: str, rows: list[str]) -> str:
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
