"""Disks (SMART), failed units or stopped services, clock sync and unavailable parts, from the
"host_health" record (collectors.host_health). Nothing read is shown as such, never as healthy."""

from __future__ import annotations

from agent.exporter.families_health import HEALTH_KIND, read_health
from agent.state import Snapshot
from agent.web.text import e, t, when
from collectors.host_health import HostHealth


def health_section(snapshot: Snapshot, lang: str) -> str:
    head = f'<section id="disk-health"><h2>{t(lang, "磁盘与服务", "Disks and services")}</h2>'
    health = read_health(snapshot)
    if health is None:
        if HEALTH_KIND in snapshot.records:
            return (
                head
                + f'<p class="error">{t(lang, "记录无法读取。", "The record is unreadable.")}</p></section>'
            )
        return head + f'<p class="empty">{t(lang, "尚未检查。", "Not checked yet.")}</p></section>'
    taken = f"<p>{t(lang, '检查于', 'Checked')} {when(health.taken)}</p>"
    return head + taken + _disks(health, lang) + _facts(health, lang) + _not_read(health, lang) + "</section>"


def _disks(health: HostHealth, lang: str) -> str:
    if not health.disks:
        return ""
    rows = "".join(
        f'<tr class="{"ok" if d.healthy else "crit"}" data-device="{e(d.device)}"><td>{e(d.device)}</td>'
        f"<td>{e(d.model)}</td><td>{_verdict(d.healthy, lang)}</td>"
        f"<td>{e(', '.join(f'{k} {v}' for k, v in sorted(d.errors.items())))}</td></tr>"
        for d in health.disks
    )
    cols = "".join(
        f"<th>{t(lang, zh, en)}</th>"
        for zh, en in (
            ("磁盘", "Disk"),
            ("型号", "Model"),
            ("SMART", "SMART"),
            ("错误计数", "Error counters"),
        )
    )
    return f'<table id="smart"><thead><tr>{cols}</tr></thead><tbody>{rows}</tbody></table>'


def _verdict(healthy: bool, lang: str) -> str:
    return t(lang, "正常", "passed") if healthy else t(lang, "故障", "FAILING")


def _facts(health: HostHealth, lang: str) -> str:
    items = []
    if health.failed_units is not None:
        names = ", ".join(health.failed_units) or t(lang, "无", "none")
        label = t(lang, "失败的 systemd 单元：", "Failed systemd units: ")
        items.append(f'<li id="failed-units">{label}{e(names)}</li>')
    if health.stopped_services is not None:
        names = ", ".join(health.stopped_services) or t(lang, "无", "none")
        label = t(lang, "未运行的自动启动服务：", "Automatic services not running: ")
        items.append(f'<li id="stopped-services">{label}{e(names)}</li>')
    if health.time_synchronized is not None:
        synced = (
            t(lang, "已同步", "synchronised")
            if health.time_synchronized
            else t(lang, "未同步", "NOT synchronised")
        )
        items.append(f'<li id="time-sync">{t(lang, "时钟：", "Clock: ")}{synced}</li>')
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _not_read(health: HostHealth, lang: str) -> str:
    out = ""
    if health.errors:
        items = "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in sorted(health.errors.items()))
        label = t(lang, "无法读取：", "Could not read:")
        out += f'<div class="error" id="health-errors">{label}<ul>{items}</ul></div>'
    if health.unavailable:
        items = "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in sorted(health.unavailable.items()))
        label = t(lang, "本机不提供：", "Not available on this host:")
        out += f'<div class="empty" id="health-unavailable">{label}<ul>{items}</ul></div>'
    return out
