"""The backups section of the status page (zh/en), from the stored "backup" record."""

from __future__ import annotations

import time

from agent.drill_full_record import full_drills
from agent.records.backup import BackupRecord, RepoCheck, RepoDrill, RepoPrune
from agent.records.base import StateError
from agent.state import Snapshot
from agent.web.markup import EMPTY, Markup, header_row, html, join
from agent.web.text import size, t, when

ROOM2_LIMIT = 4 * 3600.0  # ROOM-2: a failed server back within 4 hours at most

_BADGE = {
    "ok": ("ok", "成功", "ok"),
    "partial": ("warn", "部分", "partial"),
    "failed": ("crit", "失败", "failed"),
}


def _badge(lang: str, status: str) -> Markup:
    css, zh, en = _BADGE.get(status, ("warn", "未知", "unknown"))
    return html('<span class="badge {}">{}</span>', css, t(lang, zh, en))


def _result(lang: str, part: RepoCheck | RepoDrill | None) -> Markup:
    if part is None:
        return html("{}", t(lang, "从未", "never"))
    return html("{} {}", _badge(lang, "ok" if part.ok else "failed"), when(part.time))


def _prune(lang: str, part: RepoPrune | None) -> Markup:
    if part is None:
        return html("{}", t(lang, "从未", "never"))
    text = html("{} {}", _badge(lang, "ok" if part.status == "ok" else "failed"), when(part.time))
    if part.status == "ok":
        text += html(" ({} {})", t(lang, "删除", "removed"), part.removed)
    return text


def backup_section(snapshot: Snapshot, lang: str) -> Markup:
    head = html('<section id="backup"><h2>{}</h2>', t(lang, "备份", "Backups"))
    try:
        stored = snapshot.get(BackupRecord)
    except StateError as exc:
        unreadable = t(lang, "备份记录无法读取", "The backup record is unreadable")
        return head + html('<p class="error">{}: {}</p></section>', unreadable, exc)
    record = stored.record if stored is not None else None
    if record is None or not record.repositories:
        none = t(lang, "尚未备份。", "No backup has run yet.")
        return head + html('<p class="empty">{}</p></section>', none)
    columns = header_row(lang, (
        ("仓库", "Repository"), ("上次备份", "Last backup"), ("结果", "Result"), ("上次成功", "Last success"),
        ("新增", "Added"), ("文件", "Files"), ("快照", "Snapshots"), ("覆盖缺口", "Coverage gap"),
        ("校验", "Check"), ("恢复演练", "Restore drill"), ("清理", "Prune"), ("错误", "Error")))  # fmt: skip
    rows = []
    for name, r in sorted(record.repositories.items()):
        drill_text = _result(lang, r.drill)
        if r.drill is not None and r.drill.duration is not None:
            drill_text += html(" ({:.1f} s)", r.drill.duration)
        rows.append(
            html(
                '<tr data-repository="{name}" class="{level}"><td>{name}</td><td>{attempt}</td>'
                "<td>{badge}</td><td>{success}</td>"
                '<td class="num">{added}</td><td class="num">{files}</td><td class="num">{snapshots}</td>'
                '<td class="num">{gap}</td><td>{check}</td><td>{drill}</td><td>{prune}</td>'
                '<td class="err">{error}</td></tr>',
                name=name,
                level=_BADGE.get(r.status, ("warn",))[0],
                attempt=when(r.last_attempt),
                badge=_badge(lang, r.status),
                success=when(r.last_success),
                added=size(float(r.bytes_added or 0)),
                files=_or_dash(r.files),
                snapshots=_or_dash(r.snapshot_count),
                gap=_or_dash(r.coverage_gap),
                check=_result(lang, r.check),
                drill=drill_text,
                prune=_prune(lang, r.prune),
                error=r.error,
            )
        )
    table = html('<table id="backup-table">{}<tbody>{}</tbody></table>', columns, join(rows))
    drills = _full_drill(lang, snapshot)
    return join((head, _warnings(lang, record), table, drills, _offline(lang, record), Markup("</section>")))


def _full_drill(lang: str, snapshot: Snapshot) -> Markup:
    """The last full disaster-recovery drill per repository and the projected restore time."""
    label = t(lang, "完整恢复演练", "Full recovery drill")
    views = full_drills(snapshot)
    if not views:
        never = t(lang, "从未进行", "never run") + " (hostward backup drill --full)"
        return html('<p id="backup-drill-full" class="warn">{}: {}</p>', label, never)
    items = []
    for name, view in sorted(views.items()):
        last, projected = view.last, view.projected_seconds
        text = html("{} {}", _badge(lang, "ok" if last.ok else "failed"), when(last.started))
        if not last.ok:
            text += html(' <span class="err">{}</span>', last.error)
        if view.last_ok is not None:
            ok = view.last_ok
            text += html(
                " · {} {}: {} {}, {} {} {:.0f} s ({}/s)",
                t(lang, "上次通过", "last passed"),
                when(ok.started),
                ok.files,
                t(lang, "个文件", "files"),
                size(ok.bytes),
                t(lang, "用时", "in"),
                ok.duration,
                size(ok.throughput),
            )
        css = "ok" if last.ok else "crit"
        if projected is not None:
            css = "crit" if projected > ROOM2_LIMIT else css
            text += html(
                " · {} {} ({}; {})",
                t(lang, "预计完整恢复", "projected full restore"),
                _span(projected),
                size(view.size_now),
                t(lang, "上限 4 小时", "limit 4 h"),
            )
        items.append(html('<li class="{}" data-repository="{}">{}: {}</li>', css, name, name, text))
    return html('<div id="backup-drill-full"><p>{}</p><ul>{}</ul></div>', label, join(items))


def _span(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def _or_dash(value: int | None) -> str:
    return "—" if value is None else str(value)


def _warnings(lang: str, record: BackupRecord) -> Markup:
    if not record.warnings:
        return EMPTY
    label = t(lang, "警告", "Warning")
    items = join(html("<li>{}: {}</li>", label, w) for w in record.warnings)
    return html('<ul id="backup-warnings" class="warn">{}</ul>', items)


def _offline(lang: str, record: BackupRecord) -> Markup:
    offline = record.offline
    label = t(lang, "离线副本", "Offline copy")
    if offline is None:
        never = t(lang, "从未制作", "never made")
        return html('<p id="backup-offline" class="warn">{}: {}</p>', label, never)
    age_days = (time.time() - offline.time) / 86400
    overdue = age_days * 86400 > (record.offline_max_age or 31 * 86400)
    return html(
        '<p id="backup-offline" class="{}">{}: {} {} ({:.0f} {})</p>',
        "crit" if overdue else "ok",
        label,
        offline.media_id,
        when(offline.time),
        age_days,
        t(lang, "天前", "days ago"),
    )
