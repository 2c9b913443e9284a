"""The machine room: every device up or down and why, UPS power, room climate, outages
(ROOM-1/ROOM-2), and configuration changes."""

from __future__ import annotations

import time

from agent.records.base import StateError
from agent.records.devices import ConfigBackup, DeviceConfigsRecord, DevicesRecord, OutageBook
from agent.state import Snapshot
from agent.web.markup import Markup, header_row, html, join
from agent.web.text import duration, t, when
from collectors.devices import outages
from collectors.devices.records import DeviceResult

HOT_CELSIUS = 28.0  # machine rooms aim for 18-27 °C (ASHRAE); above 28 is worth a look


def devices_section(snapshot: Snapshot, lang: str) -> Markup:
    head = html('<section id="devices"><h2>{}</h2>', t(lang, "机房设备", "Machine room"))
    try:
        stored = snapshot.get(DevicesRecord)
        configs = snapshot.get(DeviceConfigsRecord)
    except StateError as exc:
        unreadable = t(lang, "设备记录无法读取", "The devices record is unreadable")
        return head + html('<p class="error">{}: {}</p></section>', unreadable, exc)
    if stored is None:
        none = t(lang, "尚未轮询设备。", "Devices not polled yet.")
        return head + html('<p class="empty">{}</p></section>', none)
    now = time.time()
    parts = [head, html('<p class="meta">{} {}</p>', t(lang, "轮询于", "Polled at"), when(stored.taken))]
    parts.append(_table(list(stored.record.devices), lang))
    parts.append(_outages(stored.record.outages, now, lang))
    if configs is not None:
        parts.append(_configs(configs.record.devices, lang))
    return join(parts) + Markup("</section>")


def _table(results: list[DeviceResult], lang: str) -> Markup:
    if not results:
        return html('<p class="empty">{}</p>', t(lang, "未配置SNMP设备。", "No SNMP device configured."))
    head = header_row(lang, (("设备", "Device"), ("类型", "Kind"), ("位置", "Site"), ("状态", "State"),
                             ("运行时间", "Uptime"), ("详情", "Details")))  # fmt: skip
    rows = []
    for r in results:
        state = (
            html('<span class="badge ok">{}</span>', t(lang, "正常", "up"))
            if r.up
            else _bad(t(lang, "故障", "down"), r.reason)
        )
        uptime = duration(r.system.uptime_seconds, lang) if r.system and r.system.uptime_seconds else "—"
        level = "crit" if not r.up or (r.ups and r.ups.on_battery) else "ok"
        rows.append(
            html(
                '<tr data-device="{name}" class="{level}"><td>{name}</td><td>{kind}</td><td>{site}</td>'
                "<td>{state}</td><td>{uptime}</td><td>{details}</td></tr>",
                name=r.name,
                level=level,
                kind=r.kind,
                site=r.site,
                state=state,
                uptime=uptime,
                details=_details(r, lang),
            )
        )
    return _wrap("devices-table", head, rows)


def _details(r: DeviceResult, lang: str) -> Markup:
    bits: list[Markup | str] = []
    if r.interfaces:
        up = sum(i.up for i in r.interfaces)
        bits.append(f"{up}/{len(r.interfaces)} " + t(lang, "端口在线", "ports up"))
    if r.ups is not None:
        u = r.ups
        power = (
            html('<span class="badge crit">{}</span>', t(lang, "电池供电", "on battery"))
            if u.on_battery
            else html('<span class="badge ok">{}</span>', t(lang, "市电供电", "on mains"))
        )
        bits.append(power)
        if u.charge_ratio is not None:
            bits.append(t(lang, "电量", "charge") + f" {u.charge_ratio:.0%}")
        if u.runtime_seconds is not None:
            bits.append(t(lang, "可运行", "runtime") + " " + duration(u.runtime_seconds, lang))
        if u.load_ratio is not None:
            bits.append(t(lang, "负载", "load") + f" {u.load_ratio:.0%}")
        if u.alarms:
            bits.append(
                html('<span class="err">{}: {}</span>', t(lang, "告警", "alarms"), ", ".join(u.alarms))
            )
    for s in r.sensors:
        if s.kind == "temperature":
            hot = s.value > HOT_CELSIUS or not s.ok
            value = html('<span class="{}">{:.1f} °C</span>', "err" if hot else "ok", s.value)
        else:
            value = html("{:.0%} RH", s.value)
        bits.append(html("{} {}", s.name, value))
    if r.warnings:
        bits.append(
            html(
                '<span class="warn" title="{}">{}</span>',
                "; ".join(r.warnings),
                t(lang, "部分数据缺失", "some data missing"),
            )
        )
    return join(bits, " · ") or Markup("—")


def _outages(book: OutageBook, now: float, lang: str) -> Markup:
    open_ = book.open
    history = book.history[-10:]
    if not open_ and not history:
        none = t(lang, "无停机记录。", "No outages recorded.")
        return html('<p class="ok" id="outages-none">{}</p>', none)
    row = Markup(
        '<tr class="{level}" data-target="{target}"><td>{target}</td><td>{start}</td><td>{end}</td>'
        "<td>{duration}</td><td>{over}</td><td>{reason}</td></tr>"
    )
    rows = []
    for o in open_:
        over = [name for name, passed in outages.over_thresholds(o, now).items() if passed]
        rows.append(
            row.format(
                level="crit" if over else "warn",
                target=o.target,
                start=when(o.start),
                end=t(lang, "仍在停机", "still down"),
                duration=duration(o.seconds(now), lang),
                over=", ".join(over) or "—",
                reason=o.reason,
            )
        )
    for item in reversed(history):
        rows.append(
            row.format(
                level="crit" if item.over else "ok",
                target=item.target,
                start=when(item.start),
                end=when(item.end),
                duration=duration(item.seconds, lang),
                over=", ".join(item.over) or "—",
                reason=item.reason,
            )
        )
    head = header_row(lang, (("对象", "Target"), ("开始", "Start"), ("恢复", "Restored"),
                             ("时长", "Duration"), ("超过时限（2h/4h）", "Past limit (2h/4h)"),
                             ("原因", "Reason")))  # fmt: skip
    title = t(lang, "停机记录（故障须在2小时内排除，最长4小时）", "Outages (clear within 2 h, 4 h at most)")
    return html("<h3>{}</h3>", title) + _wrap("outages-table", head, rows)


def _configs(items: tuple[ConfigBackup, ...], lang: str) -> Markup:
    rows = []
    for item in items:
        if not item.ok:
            state = _bad(t(lang, "失败", "failed"), item.reason)
        elif item.changed:
            state = html('<span class="badge warn">{}</span>', t(lang, "配置已变更", "changed"))
        else:
            state = html('<span class="badge ok">{}</span>', t(lang, "未变更", "unchanged"))
        rows.append(
            html(
                '<tr data-device="{name}"><td>{name}</td><td>{state}</td><td class="num">{version}</td>'
                "<td>{changed}</td></tr>",
                name=item.name,
                state=state,
                version=item.version,
                changed=when(item.last_change),
            )
        )
    head = header_row(lang, (("设备", "Device"), ("配置备份", "Config backup"), ("版本", "Version"),
                             ("最近变更", "Last change")))  # fmt: skip
    title = t(lang, "设备配置备份", "Device configuration backups")
    return html("<h3>{}</h3>", title) + _wrap("device-configs-table", head, rows)


def _bad(label: str, reason: object) -> Markup:
    return html('<span class="badge crit">{}</span> <span class="err">{}</span>', label, reason)


def _wrap(table_id: str, head: Markup, rows: list[Markup]) -> Markup:
    return html('<table id="{}">{}<tbody>{}</tbody></table>', table_id, head, join(rows))
