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
from agent.report.page import document
from agent.state import State
from agent.web.markup import Markup, facts, html, table
from agent.web.section_audit import audit_section
from agent.web.section_backup import backup_section
from agent.web.section_devices import devices_section
from agent.web.section_events import events_table
from agent.web.section_host import host_section
from agent.web.text import t, when

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


def render_daily(config: Config, state: State, day: date, lang: str, backup_configured: bool) -> Markup:
    """Today's record (the detail sections show the state as it is now)."""
    start, end = day_bounds(day)
    snapshot = state.snapshot()
    body = [
        html("<h1>{}</h1>", t(lang, "机房及终端每日巡检记录", "Daily inspection record")),
        facts("record-facts", lang, _facts(config, state, day)),
        html("<h2>{}</h2>", t(lang, "巡检结论", "Inspection summary")),
        _items(inspect(state, day, backup_configured), lang),
        html("<h2>{}</h2>", t(lang, "当日事件", "Incidents of the day")),
        _incidents(incidents(state, start, end), lang),
        html("<h3>{}</h3>", t(lang, "当日机房事件", "Machine-room events of the day")),
        events_table(device_events.read(state).since(start, end), lang, "day-events"),
        html("<h3>{}</h3>", t(lang, "当日任务运行", "Job runs of the day")),
        _job_days(job_days(state, start, end), lang),
        html("<h2>{}</h2>", t(lang, "详细情况", "Details")),
        *(section(snapshot, lang) for section in DETAIL_SECTIONS),
        html(
            '<div class="signoff"><div>{}</div><div>{}</div><div>{}</div></div>',
            t(lang, "巡检人", "Inspected by"),
            t(lang, "复核人", "Checked by"),
            t(lang, "备注", "Remarks"),
        ),
    ]
    return document(lang, f"{t(lang, '每日巡检记录', 'Daily inspection record')} {day.isoformat()}", body)


def _facts(config: Config, state: State, day: date) -> list[tuple[str, str, Markup | str]]:
    try:
        host = state.record(HostRecord)
    except StateError:  # the health item of the record says why
        host = None
    name = config.host.name or (host.record.snapshot.hostname if host else None) or socket.gethostname()
    return [
        ("主机", "Host", html('<span id="record-host">{}</span>', name)),
        ("角色 / 地点", "Role / site", f"{config.host.role} / {config.host.site or '—'}"),
        ("日期", "Date", html('<span id="record-date">{}</span>', day.isoformat())),
    ]


def _job_days(days: list[JobDay], lang: str) -> Markup:
    rows = [
        html(
            '<tr data-job="{job}" class="{level}"><td>{job}</td><td class="num">{runs}</td>'
            '<td class="num">{failed}</td></tr>',
            job=d.job,
            level="warn" if d.failed else "ok",
            runs=d.runs,
            failed=d.failed,
        )
        for d in days
    ]
    return table("jobs-day", lang, [("任务", "Job"), ("运行次数", "Runs"), ("失败", "Failed")], rows)


def _items(items: list[Item], lang: str) -> Markup:
    rows = [
        html(
            '<tr data-item="{key}" data-level="{level}" class="{level}"><td>{item}</td><td>{verdict}</td>'
            "<td>{said}</td></tr>",
            key=it.key,
            level=it.level,
            item=t(lang, *ITEM_TEXT[it.key]),
            verdict=t(lang, *LEVEL_TEXT[it.level]),
            said=t(lang, it.zh, it.en),
        )
        for it in items
    ]
    return table("inspection", lang, [("项目", "Item"), ("结论", "Result"), ("说明", "Details")], rows)


def _incidents(found: list[Incident], lang: str) -> Markup:
    if not found:
        none = t(lang, "当日无事件。", "No incident that day.")
        return html('<p class="ok" id="no-incidents">{}</p>', none)
    rows = []
    for i in found:
        kind = t(lang, "任务失败", "job failed") if i.kind == "job" else t(lang, "停机", "outage")
        ended = "" if i.kind == "job" else when(i.end) if i.end else t(lang, "仍在停机", "still down")
        rows.append(
            html(
                '<tr data-incident="{}" class="crit"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
                "<td>{}</td></tr>",
                i.kind,
                when(i.time),
                kind,
                i.what,
                i.detail,
                ended,
            )
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
