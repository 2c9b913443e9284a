"""The daily inspection record as printable HTML, and its archive in <state_dir>/reports.

The summary and the day's incidents come first (what an inspector signs); the detail below is
the status page's own sections, so the record shows exactly what the agent saw. The archive
keeps one file per day, `daily-YYYY-MM-DD.html`, written atomically, and forgets the oldest.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import tempfile
from datetime import date, timedelta
from pathlib import Path

from agent import device_events
from agent.config.schema import Config
from agent.records.base import StateError
from agent.records.host import HostRecord
from agent.report.daily import Incident, Item, JobDay, day_bounds, incidents, inspect, job_days
from agent.report.page import document, facts, table
from agent.state import State
from agent.web.section_audit import audit_section
from agent.web.section_backup import backup_section
from agent.web.section_devices import devices_section
from agent.web.section_events import events_table
from agent.web.section_host import host_section
from agent.web.text import e, t, when

log = logging.getLogger(__name__)
_NAME = re.compile(r"^daily-(\d{4}-\d\d-\d\d)\.html$")
ITEM_TEXT = {
    "health": ("主机健康", "Host health"),
    "compliance": ("制度合规", "Compliance"),
    "backups": ("备份", "Backups"),
    "devices": ("机房设备与停机", "Machine room and outages"),
    "jobs": ("当日任务", "Jobs today"),
    "access": ("访问日志与 U 盘", "Access logs and USB storage"),
}
LEVEL_TEXT = {
    "ok": ("正常", "OK"),
    "warn": ("需关注", "attention"),
    "crit": ("异常", "problem"),
    "nodata": ("无数据", "no data"),
    "muted": ("不适用", "n/a"),
}


DETAIL_SECTIONS = (host_section, audit_section, backup_section, devices_section)


def render_daily(config: Config, state: State, day: date, lang: str, backup_configured: bool) -> str:
    """Today's record (the detail sections show the state as it is now)."""
    start, end = day_bounds(day)
    snapshot = state.snapshot()
    body = [
        f"<h1>{t(lang, '机房及终端每日巡检记录', 'Daily inspection record')}</h1>",
        facts("record-facts", lang, _facts(config, state, day)),
        f"<h2>{t(lang, '巡检结论', 'Inspection summary')}</h2>",
        _items(inspect(state, day, backup_configured), lang),
        f"<h2>{t(lang, '当日事件', 'Incidents of the day')}</h2>",
        _incidents(incidents(state, start, end), lang),
        f"<h3>{t(lang, '当日机房事件', 'Machine-room events of the day')}</h3>",
        events_table(device_events.read(state).since(start, end), lang, "day-events"),
        f"<h3>{t(lang, '当日任务运行', 'Job runs of the day')}</h3>",
        _job_days(job_days(state, start, end), lang),
        f"<h2>{t(lang, '详细情况', 'Details')}</h2>",
        *(section(snapshot, lang) for section in DETAIL_SECTIONS),
        '<div class="signoff">'
        f"<div>{t(lang, '巡检人', 'Inspected by')}</div><div>{t(lang, '复核人', 'Checked by')}</div>"
        f"<div>{t(lang, '备注', 'Remarks')}</div></div>",
    ]
    return document(lang, f"{t(lang, '每日巡检记录', 'Daily inspection record')} {day.isoformat()}", body)


def _facts(config: Config, state: State, day: date) -> list[tuple[str, str, str]]:
    try:
        host = state.record(HostRecord)
    except StateError:  # the health item of the record says why
        host = None
    name = config.host.name or (host.record.snapshot.hostname if host else None) or socket.gethostname()
    return [
        ("主机", "Host", f'<span id="record-host">{e(name)}</span>'),
        ("角色 / 地点", "Role / site", e(f"{config.host.role} / {config.host.site or '—'}")),
        ("日期", "Date", f'<span id="record-date">{e(day.isoformat())}</span>'),
    ]


def _job_days(days: list[JobDay], lang: str) -> str:
    rows = [
        f'<tr data-job="{e(d.job)}" class="{"warn" if d.failed else "ok"}"><td>{e(d.job)}</td>'
        f'<td class="num">{d.runs}</td><td class="num">{d.failed}</td></tr>'
        for d in days
    ]
    return table("jobs-day", lang, [("任务", "Job"), ("运行次数", "Runs"), ("失败", "Failed")], rows)


def _items(items: list[Item], lang: str) -> str:
    rows = [
        f'<tr data-item="{it.key}" data-level="{it.level}" class="{it.level}">'
        f"<td>{t(lang, *ITEM_TEXT[it.key])}</td><td>{t(lang, *LEVEL_TEXT[it.level])}</td>"
        f"<td>{t(lang, it.zh, it.en)}</td></tr>"
        for it in items
    ]
    return table("inspection", lang, [("项目", "Item"), ("结论", "Result"), ("说明", "Details")], rows)


def _incidents(found: list[Incident], lang: str) -> str:
    if not found:
        return f'<p class="ok" id="no-incidents">{t(lang, "当日无事件。", "No incident that day.")}</p>'
    rows = []
    for i in found:
        kind = t(lang, "任务失败", "job failed") if i.kind == "job" else t(lang, "停机", "outage")
        ended = "" if i.kind == "job" else when(i.end) if i.end else t(lang, "仍在停机", "still down")
        rows.append(
            f'<tr data-incident="{i.kind}" class="crit"><td>{when(i.time)}</td><td>{kind}</td>'
            f"<td>{e(i.what)}</td><td>{e(i.detail)}</td><td>{ended}</td></tr>"
        )
    columns = [("时间", "Time"), ("类型", "Kind"), ("对象", "Target"), ("原因", "Reason"), ("恢复", "Ended")]
    return table("incidents", lang, columns, rows)


def archive_path(state_dir: Path, day: date) -> Path:
    return state_dir / "reports" / f"daily-{day.isoformat()}.html"


def write_archive(state_dir: Path, day: date, html: str) -> Path:
    """Write the day's record atomically (0600, in a 0700 directory); returns its path."""
    path = archive_path(state_dir, day)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".daily-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def prune_archive(state_dir: Path, keep_days: int, today: date) -> list[Path]:
    """Delete records older than the last `keep_days` days (today included); returns them."""
    oldest = today - timedelta(days=keep_days - 1)
    removed = []
    folder = state_dir / "reports"
    for path in sorted(folder.glob("daily-*.html")) if folder.is_dir() else ():
        match = _NAME.match(path.name)
        if match is None:
            continue
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            continue
        if day < oldest:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
