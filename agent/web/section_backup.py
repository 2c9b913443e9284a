"""The backups section of the status page (zh/en), from the stored "backup" record."""

from __future__ import annotations

import time

from agent.drill_full_record import full_drills
from agent.records.backup import BackupRecord, RepoCheck, RepoDrill, RepoPrune
from agent.records.base import StateError
from agent.state import Snapshot
from agent.web.text import e, size, t, when

ROOM2_LIMIT = 4 * 3600.0  # ROOM-2: a failed server back within 4 hours at most

_BADGE = {
    "ok": ("ok", "成功", "ok"),
    "partial": ("warn", "部分", "partial"),
    "failed": ("crit", "失败", "failed"),
}


def _badge(lang: str, status: str) -> str:
    css, zh, en = _BADGE.get(status, ("warn", "未知", "unknown"))
    return f'<span class="badge {css}">{t(lang, zh, en)}</span>'


def _result(lang: str, part: RepoCheck | RepoDrill | None) -> str:
    if part is None:
        return t(lang, "从未", "never")
    return f"{_badge(lang, 'ok' if part.ok else 'failed')} {when(part.time)}"


def _prune(lang: str, part: RepoPrune | None) -> str:
    if part is None:
        return t(lang, "从未", "never")
    text = f"{_badge(lang, 'ok' if part.status == 'ok' else 'failed')} {when(part.time)}"
    return text + (f" ({t(lang, '删除', 'removed')} {part.removed})" if part.status == "ok" else "")


def backup_section(snapshot: Snapshot, lang: str) -> str:
    head = f'<section id="backup"><h2>{t(lang, "备份", "Backups")}</h2>'
    try:
        stored = snapshot.get(BackupRecord)
    except StateError as exc:
        unreadable = t(lang, "备份记录无法读取", "The backup record is unreadable")
        return head + f'<p class="error">{unreadable}: {e(str(exc))}</p></section>'
    record = stored.record if stored is not None else None
    if record is None or not record.repositories:
        return head + f'<p class="empty">{t(lang, "尚未备份。", "No backup has run yet.")}</p></section>'
    columns = "".join(f"<th>{t(lang, zh, en)}</th>" for zh, en in (
        ("仓库", "Repository"), ("上次备份", "Last backup"), ("结果", "Result"), ("上次成功", "Last success"),
        ("新增", "Added"), ("文件", "Files"), ("快照", "Snapshots"), ("覆盖缺口", "Coverage gap"),
        ("校验", "Check"), ("恢复演练", "Restore drill"), ("清理", "Prune"), ("错误", "Error")))  # fmt: skip
    rows = []
    for name, r in sorted(record.repositories.items()):
        drill_text = _result(lang, r.drill)
        if r.drill is not None and r.drill.duration is not None:
            drill_text += f" ({r.drill.duration:.1f} s)"
        rows.append(
            f'<tr data-repository="{e(name)}" class="{e(_BADGE.get(r.status, ("warn",))[0])}">'
            f"<td>{e(name)}</td><td>{when(r.last_attempt)}</td><td>{_badge(lang, r.status)}</td>"
            f"<td>{when(r.last_success)}</td>"
            f'<td class="num">{e(size(float(r.bytes_added or 0)))}</td>'
            f'<td class="num">{e(_or_dash(r.files))}</td>'
            f'<td class="num">{e(_or_dash(r.snapshot_count))}</td>'
            f'<td class="num">{e(_or_dash(r.coverage_gap))}</td><td>{_result(lang, r.check)}</td>'
            f'<td>{drill_text}</td><td>{_prune(lang, r.prune)}</td><td class="err">{e(r.error)}</td></tr>'
        )
    table = (
        f'<table id="backup-table"><thead><tr>{columns}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    drills = _full_drill(lang, snapshot)
    return head + _warnings(lang, record) + table + drills + _offline(lang, record) + "</section>"


def _full_drill(lang: str, snapshot: Snapshot) -> str:
    """The last full disaster-recovery drill per repository and the projected restore time."""
    label = t(lang, "完整恢复演练", "Full recovery drill")
    views = full_drills(snapshot)
    if not views:
        never = t(lang, "从未进行", "never run") + " (hostward backup drill --full)"
        return f'<p id="backup-drill-full" class="warn">{label}: {never}</p>'
    items = []
    for name, view in sorted(views.items()):
        last, projected = view.last, view.projected_seconds
        text = f"{_badge(lang, 'ok' if last.ok else 'failed')} {when(last.started)}"
        if not last.ok:
            text += f' <span class="err">{e(last.error)}</span>'
        if view.last_ok is not None:
            ok = view.last_ok
            text += (
                f" · {t(lang, '上次通过', 'last passed')} {when(ok.started)}: {ok.files} "
                f"{t(lang, '个文件', 'files')}, {e(size(ok.bytes))} {t(lang, '用时', 'in')} "
                f"{ok.duration:.0f} s ({e(size(ok.throughput))}/s)"
            )
        css = "ok" if last.ok else "crit"
        if projected is not None:
            css = "crit" if projected > ROOM2_LIMIT else css
            text += (
                f" · {t(lang, '预计完整恢复', 'projected full restore')} {_span(projected)} "
                f"({e(size(view.size_now))}; {t(lang, '上限 4 小时', 'limit 4 h')})"
            )
        items.append(f'<li class="{css}" data-repository="{e(name)}">{e(name)}: {text}</li>')
    return f'<div id="backup-drill-full"><p>{label}</p><ul>{"".join(items)}</ul></div>'


def _span(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def _or_dash(value: int | None) -> str:
    return "—" if value is None else str(value)


def _warnings(lang: str, record: BackupRecord) -> str:
    if not record.warnings:
        return ""
    label = t(lang, "警告", "Warning")
    items = "".join(f"<li>{label}: {e(w)}</li>" for w in record.warnings)
    return f'<ul id="backup-warnings" class="warn">{items}</ul>'


def _offline(lang: str, record: BackupRecord) -> str:
    offline = record.offline
    label = t(lang, "离线副本", "Offline copy")
    if offline is None:
        return f'<p id="backup-offline" class="warn">{label}: {t(lang, "从未制作", "never made")}</p>'
    age_days = (time.time() - offline.time) / 86400
    overdue = age_days * 86400 > (record.offline_max_age or 31 * 86400)
    css = "crit" if overdue else "ok"
    return (
        f'<p id="backup-offline" class="{css}">{label}: {e(offline.media_id)} '
        f"{when(offline.time)} ({age_days:.0f} {t(lang, '天前', 'days ago')})</p>"
    )
