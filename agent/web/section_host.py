"""Host health at a glance: CPU, load, memory, swap, uptime, filesystems, network."""

from __future__ import annotations

from agent.records.base import StateError
from agent.records.host import HostRecord
from agent.state import Snapshot
from agent.web.markup import EMPTY, Markup, bar, header_row, html, join
from agent.web.text import duration, size, t, when
from collectors.host import HostSnapshot

FS_WARN_PERCENT = 80.0
FS_CRIT_PERCENT = 90.0
# Cards of parts a platform may not provide (HostSnapshot.unavailable), by part name.
PART_LABELS = {
    "load": ("负载 1/5/15 分钟", "Load 1/5/15 min"),
    "swap": ("交换空间", "Swap"),
    "temperatures": ("温度", "Temperatures"),
    "fans": ("风扇", "Fans"),
}


def host_section(snapshot: Snapshot, lang: str) -> Markup:
    head = html('<section id="host-health"><h2>{}</h2>', t(lang, "主机健康", "Host health"))
    try:
        stored = snapshot.get(HostRecord)
    except StateError as exc:
        unreadable = t(lang, "主机记录无法读取", "The host record is unreadable")
        return head + html('<p class="error">{}: {}</p></section>', unreadable, exc)
    if stored is None:
        return head + html('<p class="empty">{}</p></section>', t(lang, "尚未采集。", "Not collected yet."))
    host = stored.record.snapshot
    parts = [head, _cards(host, lang), _filesystems(host, lang), _networks(host, lang), _errors(host, lang)]
    return join(parts) + Markup("</section>")


def _card(key: str, label: str, value: Markup | str, extra: Markup = EMPTY) -> Markup:
    return html(
        '<div class="card" id="host-{}"><div class="label">{}</div><div class="value">{}</div>{}</div>',
        key,
        label,
        value,
        extra,
    )


def _cards(host: HostSnapshot, lang: str) -> Markup:
    cards = [
        _card("name", t(lang, "主机", "Host"), host.hostname),
        _card("taken", t(lang, "采集于", "Collected"), when(host.taken)),
    ]
    if host.cpu_percent is not None:
        cpu = f"{host.cpu_percent:.0f}% · {host.cpu_count} CPU"
        cards.append(_card("cpu", t(lang, "处理器", "CPU"), cpu, bar(host.cpu_percent)))
    if host.load is not None:
        ld = host.load
        load = f"{ld.load1:.2f} / {ld.load5:.2f} / {ld.load15:.2f}"
        cards.append(_card("load", t(lang, "负载 1/5/15 分钟", "Load 1/5/15 min"), load))
    if host.memory is not None and host.memory.total:
        m = host.memory
        used = m.total - m.available
        pct = 100.0 * used / m.total
        memory = f"{pct:.0f}% · {size(used)} / {size(m.total)}"
        cards.append(_card("memory", t(lang, "内存", "Memory"), memory, bar(pct)))
    if host.swap is not None and host.swap.total:
        s = host.swap
        pct = 100.0 * s.used / s.total
        swap = f"{pct:.0f}% · {size(s.used)} / {size(s.total)}"
        cards.append(_card("swap", t(lang, "交换空间", "Swap"), swap, bar(pct)))
    if host.uptime is not None:
        cards.append(_card("uptime", t(lang, "已运行", "Uptime"), duration(host.uptime, lang)))
    if host.processes is not None:
        cards.append(_card("processes", t(lang, "进程", "Processes"), str(host.processes)))
    users = ", ".join(sorted(set(host.users))) or "—"
    logged_in = html("{} <small>{}</small>", len(host.users), users)
    cards.append(_card("users", t(lang, "登录用户", "Logged in"), logged_in))
    for temp in host.temperatures[:6]:
        cards.append(_card("temp", f"{temp.sensor} {temp.label}", f"{temp.celsius:.0f} °C"))
    cards.extend(_unavailable(host, lang))
    return html('<div class="cards">{}</div>', join(cards))


def _unavailable(host: HostSnapshot, lang: str) -> list[Markup]:
    """A part the platform does not provide (Windows without performance counters: load, swap)
    is said so, with the collector's reason: not an error, and not a silent gap."""
    out = []
    for part, why in sorted(host.unavailable.items()):
        zh, en = PART_LABELS.get(part, (part, part))
        out.append(
            html(
                '<div class="card na" id="host-{part}" data-unavailable="{part}">'
                '<div class="label">{label}</div><div class="value">{said}</div><small>{why}</small></div>',
                part=part,
                label=t(lang, zh, en),
                said=t(lang, "此平台不提供", "not available on this platform"),
                why=why,
            )
        )
    return out


def _filesystems(host: HostSnapshot, lang: str) -> Markup:
    if not host.filesystems:
        return EMPTY
    rows = []
    for fs in host.filesystems:
        used = fs.size - fs.free
        # Percent of what users can have, like df: used / (used + avail).
        pct = 100.0 * used / (used + fs.avail) if used + fs.avail else 0.0
        level = "crit" if pct >= FS_CRIT_PERCENT else "warn" if pct >= FS_WARN_PERCENT else "ok"
        rows.append(
            html(
                '<tr class="fs {level}" data-mountpoint="{mount}"><td>{mount}</td><td>{device}</td>'
                '<td>{fstype}</td><td>{bar}</td><td class="num">{pct:.0f}%</td>'
                '<td class="num">{avail}</td><td class="num">{size}</td></tr>',
                level=level,
                mount=fs.mountpoint,
                device=fs.device,
                fstype=fs.fstype,
                bar=bar(pct, FS_WARN_PERCENT, FS_CRIT_PERCENT),
                pct=pct,
                avail=size(fs.avail),
                size=size(fs.size),
            )
        )
    head = header_row(lang, (("挂载点", "Mount"), ("设备", "Device"), ("类型", "Type"), ("使用", "Usage"),
                             ("%", "%"), ("可用", "Available"), ("容量", "Size")))  # fmt: skip
    return html(
        '<h3>{}</h3><table id="filesystems">{}<tbody>{}</tbody></table>',
        t(lang, "文件系统", "Filesystems"),
        head,
        join(rows),
    )


def _networks(host: HostSnapshot, lang: str) -> Markup:
    if not host.networks:
        return EMPTY
    rows = join(
        html(
            '<tr data-interface="{name}"><td>{name}</td><td class="num">{rx}</td><td class="num">{tx}</td>'
            '<td class="num">{errors}</td><td class="num">{drops}</td></tr>',
            name=n.interface,
            rx=size(n.rx_bytes),
            tx=size(n.tx_bytes),
            errors=n.rx_errors + n.tx_errors,
            drops=n.rx_drops + n.tx_drops,
        )
        for n in host.networks
    )
    head = header_row(lang, (("接口", "Interface"), ("接收", "Received"), ("发送", "Sent"),
                             ("错误", "Errors"), ("丢包", "Drops")))  # fmt: skip
    return html(
        '<h3>{}</h3><table id="network">{}<tbody>{}</tbody></table>',
        t(lang, "网络（开机以来）", "Network (since boot)"),
        head,
        rows,
    )


def _errors(host: HostSnapshot, lang: str) -> Markup:
    if not host.errors:
        return EMPTY
    items = join(html("<li><b>{}</b>: {}</li>", part, msg) for part, msg in sorted(host.errors.items()))
    label = t(lang, "无法读取：", "Could not read:")
    return html('<div class="error" id="host-errors">{}<ul>{}</ul></div>', label, items)
