"""Host health at a glance: CPU, load, memory, swap, uptime, filesystems, network."""

from __future__ import annotations

from agent.records.base import StateError
from agent.records.host import HostRecord
from agent.state import Snapshot
from agent.web.text import bar, duration, e, size, t, when
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


def host_section(snapshot: Snapshot, lang: str) -> str:
    head = f'<section id="host-health"><h2>{t(lang, "主机健康", "Host health")}</h2>'
    try:
        stored = snapshot.get(HostRecord)
    except StateError as exc:
        unreadable = t(lang, "主机记录无法读取", "The host record is unreadable")
        return head + f'<p class="error">{unreadable}: {e(str(exc))}</p></section>'
    if stored is None:
        return head + f'<p class="empty">{t(lang, "尚未采集。", "Not collected yet.")}</p></section>'
    host = stored.record.snapshot
    parts = [head, _cards(host, lang), _filesystems(host, lang), _networks(host, lang), _errors(host, lang)]
    return "".join(parts) + "</section>"


def _card(key: str, label: str, value: str, extra: str = "") -> str:
    return (
        f'<div class="card" id="host-{key}"><div class="label">{label}</div>'
        f'<div class="value">{value}</div>{extra}</div>'
    )


def _cards(host: HostSnapshot, lang: str) -> str:
    cards = [
        _card("name", t(lang, "主机", "Host"), e(host.hostname)),
        _card("taken", t(lang, "采集于", "Collected"), when(host.taken)),
    ]
    if host.cpu_percent is not None:
        cards.append(
            _card(
                "cpu",
                t(lang, "处理器", "CPU"),
                f"{host.cpu_percent:.0f}% · {host.cpu_count} CPU",
                bar(host.cpu_percent),
            )
        )
    if host.load is not None:
        ld = host.load
        cards.append(
            _card(
                "load",
                t(lang, "负载 1/5/15 分钟", "Load 1/5/15 min"),
                f"{ld.load1:.2f} / {ld.load5:.2f} / {ld.load15:.2f}",
            )
        )
    if host.memory is not None and host.memory.total:
        m = host.memory
        used = m.total - m.available
        pct = 100.0 * used / m.total
        cards.append(
            _card(
                "memory",
                t(lang, "内存", "Memory"),
                f"{pct:.0f}% · {e(size(used))} / {e(size(m.total))}",
                bar(pct),
            )
        )
    if host.swap is not None and host.swap.total:
        s = host.swap
        pct = 100.0 * s.used / s.total
        cards.append(
            _card(
                "swap",
                t(lang, "交换空间", "Swap"),
                f"{pct:.0f}% · {e(size(s.used))} / {e(size(s.total))}",
                bar(pct),
            )
        )
    if host.uptime is not None:
        cards.append(_card("uptime", t(lang, "已运行", "Uptime"), e(duration(host.uptime, lang))))
    if host.processes is not None:
        cards.append(_card("processes", t(lang, "进程", "Processes"), e(host.processes)))
    users = ", ".join(sorted(set(host.users))) or "—"
    cards.append(
        _card("users", t(lang, "登录用户", "Logged in"), f"{len(host.users)} <small>{e(users)}</small>")
    )
    for temp in host.temperatures[:6]:
        cards.append(_card("temp", e(f"{temp.sensor} {temp.label}"), f"{temp.celsius:.0f} °C"))
    cards.extend(_unavailable(host, lang))
    return '<div class="cards">' + "".join(cards) + "</div>"


def _unavailable(host: HostSnapshot, lang: str) -> list[str]:
    """A part the platform does not provide (Windows without performance counters: load, swap)
    is said so, with the collector's reason: not an error, and not a silent gap."""
    out = []
    for part, why in sorted(host.unavailable.items()):
        zh, en = PART_LABELS.get(part, (part, part))
        out.append(
            f'<div class="card na" id="host-{e(part)}" data-unavailable="{e(part)}">'
            f'<div class="label">{t(lang, zh, en)}</div>'
            f'<div class="value">{t(lang, "此平台不提供", "not available on this platform")}</div>'
            f"<small>{e(why)}</small></div>"
        )
    return out


def _filesystems(host: HostSnapshot, lang: str) -> str:
    if not host.filesystems:
        return ""
    rows = []
    for fs in host.filesystems:
        used = fs.size - fs.free
        # Percent of what users can have, like df: used / (used + avail).
        pct = 100.0 * used / (used + fs.avail) if used + fs.avail else 0.0
        level = "crit" if pct >= FS_CRIT_PERCENT else "warn" if pct >= FS_WARN_PERCENT else "ok"
        rows.append(
            f'<tr class="fs {level}" data-mountpoint="{e(fs.mountpoint)}"><td>{e(fs.mountpoint)}</td>'
            f"<td>{e(fs.device)}</td><td>{e(fs.fstype)}</td>"
            f'<td>{bar(pct, FS_WARN_PERCENT, FS_CRIT_PERCENT)}</td><td class="num">{pct:.0f}%</td>'
            f'<td class="num">{e(size(fs.avail))}</td><td class="num">{e(size(fs.size))}</td></tr>'
        )
    head = "".join(
        f"<th>{t(lang, zh, en)}</th>"
        for zh, en in (("挂载点", "Mount"), ("设备", "Device"), ("类型", "Type"), ("使用", "Usage"),
                       ("%", "%"), ("可用", "Available"), ("容量", "Size"))
    )  # fmt: skip
    return (
        f"<h3>{t(lang, '文件系统', 'Filesystems')}</h3>"
        f'<table id="filesystems"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _networks(host: HostSnapshot, lang: str) -> str:
    if not host.networks:
        return ""
    rows = "".join(
        f'<tr data-interface="{e(n.interface)}"><td>{e(n.interface)}</td>'
        f'<td class="num">{e(size(n.rx_bytes))}</td>'
        f'<td class="num">{e(size(n.tx_bytes))}</td><td class="num">{n.rx_errors + n.tx_errors}</td>'
        f'<td class="num">{n.rx_drops + n.tx_drops}</td></tr>'
        for n in host.networks
    )
    head = "".join(
        f"<th>{t(lang, zh, en)}</th>"
        for zh, en in (
            ("接口", "Interface"),
            ("接收", "Received"),
            ("发送", "Sent"),
            ("错误", "Errors"),
            ("丢包", "Drops"),
        )
    )
    return (
        f"<h3>{t(lang, '网络（开机以来）', 'Network (since boot)')}</h3>"
        f'<table id="network"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _errors(host: HostSnapshot, lang: str) -> str:
    if not host.errors:
        return ""
    items = "".join(f"<li><b>{e(part)}</b>: {e(msg)}</li>" for part, msg in sorted(host.errors.items()))
    label = t(lang, "无法读取：", "Could not read:")
    return f'<div class="error" id="host-errors">{label}<ul>{items}</ul></div>'
