"""Disks (SMART), failed units or stopped services, clock sync and unavailable parts, from the
"host_health" record (collectors.host_health). Nothing read is shown as such, never as healthy."""

from __future__ import annotations

from collections.abc import Mapping

from agent.exporter.families_health import HEALTH_KIND, read_health
from agent.state import Snapshot
from agent.web.markup import EMPTY, Markup, header_row, html, join
from agent.web.text import t, when
from collectors.host_health import HostHealth


def health_section(snapshot: Snapshot, lang: str) -> Markup:
    head = html('<section id="disk-health"><h2>{}</h2>', t(lang, "磁盘与服务", "Disks and services"))
    health = read_health(snapshot)
    if health is None:
        if HEALTH_KIND in snapshot.records:
            unreadable = t(lang, "记录无法读取。", "The record is unreadable.")
            return head + html('<p class="error">{}</p></section>', unreadable)
        return head + html('<p class="empty">{}</p></section>', t(lang, "尚未检查。", "Not checked yet."))
    taken = html("<p>{} {}</p>", t(lang, "检查于", "Checked"), when(health.taken))
    return join(
        (
            head,
            taken,
            _disks(health, lang),
            _facts(health, lang),
            _not_read(health, lang),
            Markup("</section>"),
        )
    )


def _disks(health: HostHealth, lang: str) -> Markup:
    if not health.disks:
        return EMPTY
    rows = join(
        html(
            '<tr class="{}" data-device="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            "ok" if d.healthy else "crit",
            d.device,
            d.device,
            d.model,
            _verdict(d.healthy, lang),
            ", ".join(f"{k} {v}" for k, v in sorted(d.errors.items())),
        )
        for d in health.disks
    )
    cols = header_row(
        lang, (("磁盘", "Disk"), ("型号", "Model"), ("SMART", "SMART"), ("错误计数", "Error counters"))
    )
    return html('<table id="smart">{}<tbody>{}</tbody></table>', cols, rows)


def _verdict(healthy: bool, lang: str) -> str:
    return t(lang, "正常", "passed") if healthy else t(lang, "故障", "FAILING")


def _facts(health: HostHealth, lang: str) -> Markup:
    items = []
    if health.failed_units is not None:
        names = ", ".join(health.failed_units) or t(lang, "无", "none")
        label = t(lang, "失败的 systemd 单元：", "Failed systemd units: ")
        items.append(html('<li id="failed-units">{}{}</li>', label, names))
    if health.stopped_services is not None:
        names = ", ".join(health.stopped_services) or t(lang, "无", "none")
        label = t(lang, "未运行的自动启动服务：", "Automatic services not running: ")
        items.append(html('<li id="stopped-services">{}{}</li>', label, names))
    if health.time_synchronized is not None:
        synced = (
            t(lang, "已同步", "synchronised")
            if health.time_synchronized
            else t(lang, "未同步", "NOT synchronised")
        )
        items.append(html('<li id="time-sync">{}{}</li>', t(lang, "时钟：", "Clock: "), synced))
    return html("<ul>{}</ul>", join(items)) if items else EMPTY


def _not_read(health: HostHealth, lang: str) -> Markup:
    out = EMPTY
    if health.errors:
        label = t(lang, "无法读取：", "Could not read:")
        out += html(
            '<div class="error" id="health-errors">{}<ul>{}</ul></div>', label, _listed(health.errors)
        )
    if health.unavailable:
        label = t(lang, "本机不提供：", "Not available on this host:")
        out += html(
            '<div class="empty" id="health-unavailable">{}<ul>{}</ul></div>',
            label,
            _listed(health.unavailable),
        )
    return out


def _listed(items: Mapping[str, str]) -> Markup:
    return join(html("<li><b>{}</b>: {}</li>", k, v) for k, v in sorted(items.items()))
