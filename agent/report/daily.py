"""The daily inspection record of one host (ROOM-3): what was checked today and what it showed.

Read only from the agent's state: the latest host-health, audit, backup and devices records,
the job runs and the outage book. An inspection item with no record is "no data", never "ok".
Rendering lives in daily_html.py; this module decides the verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar

from agent.records.access import AccessLogRecord
from agent.records.audit import AuditRecord
from agent.records.backup import BackupRecord
from agent.records.base import StateError, StateRecord
from agent.records.devices import DevicesRecord, OutageBook
from agent.records.host import HostRecord
from agent.state import State, Stored
from collectors.clock import is_future
from common.frozen import frozen

R = TypeVar("R", bound=StateRecord)

Level = Literal["ok", "warn", "crit", "nodata", "muted"]
FS_WARN_PERCENT = 80.0  # the status page's thresholds
FS_CRIT_PERCENT = 90.0
BACKUP_MAX_AGE = 26 * 3600.0  # a nightly backup plus slack, as the shipped alert rule
RECORD_STALE = 24 * 3600.0
RUNS_READ = 10_000  # per job; the state keeps at most history.job_runs_per_job anyway


@frozen
class Item:
    """One line of the inspection summary."""

    key: str  # health, compliance, backups, devices, jobs
    level: Level
    zh: str
    en: str


@frozen
class Incident:
    """A failed job run or a device outage of the day (Unix times)."""

    time: float
    kind: Literal["job", "outage"]
    what: str  # a job name or an outage target
    detail: str  # the error or the outage reason (data, escaped when rendered)
    end: float | None = None  # outages: when it ended, None if still open


@frozen
class JobDay:
    """One job's runs that day, and how many of them failed."""

    job: str
    runs: int
    failed: int


def day_bounds(day: date) -> tuple[float, float]:
    """Local midnight to local midnight, as epoch seconds."""
    start = datetime.combine(day, datetime.min.time()).timestamp()
    end = datetime.combine(day + timedelta(days=1), datetime.min.time()).timestamp()
    return start, end


def _read(state: State, record_type: type[R], key: str) -> Stored[R] | Item | None:
    """The stored record, or the item saying it is unreadable (and why: never silently "ok")."""
    try:
        return state.record(record_type)
    except StateError as exc:
        return Item(key, "nodata", f"{record_type.KIND} 记录无法读取：{exc}", f"unreadable: {exc}")


def health_item(state: State, now: float) -> Item:
    stored = _read(state, HostRecord, "health")
    if isinstance(stored, Item):
        return stored
    if stored is None:
        return Item("health", "nodata", "尚未采集主机健康数据", "Host health not collected")
    host = stored.record.snapshot
    full, filling = [], []
    for fs in host.filesystems:
        used = fs.size - fs.free
        pct = 100.0 * used / (used + fs.avail) if used + fs.avail else 0.0
        if pct >= FS_CRIT_PERCENT:
            full.append(f"{fs.mountpoint} {pct:.0f}%")
        elif pct >= FS_WARN_PERCENT:
            filling.append(f"{fs.mountpoint} {pct:.0f}%")
    notes_zh, notes_en = [], []
    if full or filling:
        notes_zh.append("磁盘使用率高：" + "，".join(full + filling))
        notes_en.append("filesystems filling: " + ", ".join(full + filling))
    if host.memory is not None and host.memory.total and host.memory.available < 0.1 * host.memory.total:
        notes_zh.append("可用内存低于10%")
        notes_en.append("less than 10% memory available")
    stale = now - stored.taken > RECORD_STALE or is_future(stored.taken, now)  # a clock set back
    if stale:
        notes_zh.append("采集数据已超过一天或时间戳在未来")
        notes_en.append("the reading is more than a day old or stamped in the future")
    level: Level = "crit" if full or stale else "warn" if notes_zh else "ok"
    if not notes_zh:
        return Item("health", "ok", "正常", "normal")
    return Item("health", level, "；".join(notes_zh), "; ".join(notes_en))


def compliance_item(state: State) -> Item:
    stored = _read(state, AuditRecord, "compliance")
    if isinstance(stored, Item):
        return stored
    if stored is None:
        return Item("compliance", "nodata", "尚未审计", "Not audited")
    n = stored.record.summary
    open_fail = n.failed - n.waived
    zh = f"符合 {n.passed}，不符合 {open_fail}，无法判定 {n.error}，已豁免 {n.waived}"
    en = f"pass {n.passed}, fail {open_fail}, could not determine {n.error}, waived {n.waived}"
    level: Level = "crit" if open_fail else "warn" if n.error else "ok"
    return Item("compliance", level, zh, en)


def backup_item(state: State, now: float, configured: bool) -> Item:
    stored = _read(state, BackupRecord, "backups")
    if isinstance(stored, Item):
        return replace(stored, level="crit")
    repos = stored.record.repositories if stored is not None else {}
    if not repos:
        if configured:
            return Item("backups", "crit", "已配置备份但从未运行", "Backups configured but none has run")
        return Item("backups", "muted", "本机未配置备份", "No backup configured on this host")
    bad_zh, bad_en = [], []
    for name, repo in sorted(repos.items()):
        last = repo.last_success
        if repo.status not in ("", "ok"):
            bad_zh.append(f"{name}：上次备份{repo.status}")
            bad_en.append(f"{name}: last backup {repo.status}")
        elif last is None or now - last > BACKUP_MAX_AGE:
            bad_zh.append(f"{name}：超过26小时无成功备份")
            bad_en.append(f"{name}: no successful backup for over 26 h")
        elif is_future(last, now):  # stamped while the clock ran ahead: not evidence of a backup
            bad_zh.append(f"{name}：最近成功备份的时间在未来（时钟曾走快）")
            bad_en.append(f"{name}: the last successful backup is stamped in the future (clock ran ahead)")
    if bad_zh:
        return Item("backups", "crit", "；".join(bad_zh), "; ".join(bad_en))
    names = ", ".join(sorted(repos))
    return Item("backups", "ok", f"正常（{names}）", f"ok ({names})")


def devices_item(state: State) -> Item:
    stored = _read(state, DevicesRecord, "devices")
    if isinstance(stored, Item):
        return stored
    if stored is None:
        return Item("devices", "nodata", "尚未轮询设备", "Devices not polled")
    devices = stored.record.devices
    down = sorted(d.name for d in devices if not d.up)
    still = sorted(o.target for o in stored.record.outages.open)
    if down or still:
        names = ", ".join(sorted(set(down) | set(still)))
        return Item("devices", "crit", f"故障：{names}", f"down: {names}")
    if not devices:
        return Item("devices", "muted", "未配置机房设备", "No machine-room device configured")
    return Item("devices", "ok", f"{len(devices)} 台设备正常", f"{len(devices)} devices up")


def job_days(state: State, start: float, end: float) -> list[JobDay]:
    out = []
    for job in sorted(state.snapshot().jobs):
        runs = [r for r in state.runs(job, RUNS_READ) if start <= r.started < end]
        if runs:
            out.append(JobDay(job, len(runs), sum(1 for r in runs if not r.success)))
    return out


def incidents(state: State, start: float, end: float) -> list[Incident]:
    """Failed job runs started that day and outages open at any time during it, by time."""
    found: list[Incident] = []
    for job in sorted(state.snapshot().jobs):
        for run in state.runs(job, RUNS_READ):
            if start <= run.started < end and not run.success:
                found.append(Incident(run.started, "job", job, run.error))
    devices = _read(state, DevicesRecord, "devices")
    if isinstance(devices, Stored):
        found.extend(_outages(devices.record.outages, start, end))
    return sorted(found, key=lambda i: (i.time, i.what))


def _outages(book: OutageBook, start: float, end: float) -> Iterator[Incident]:
    for o in book.open:
        if o.start < end:
            yield Incident(o.start, "outage", o.target, o.reason)
    for item in book.history:
        if item.start < end and item.end >= start:
            yield Incident(item.start, "outage", item.target, item.reason, item.end)


def jobs_item(days: list[JobDay]) -> Item:
    failed = {d.job: d.failed for d in days if d.failed}
    total = sum(d.runs for d in days)
    if not days:
        return Item("jobs", "nodata", "今日无任务运行记录", "No job ran today")
    if failed:
        text = ", ".join(f"{job} ×{n}" for job, n in sorted(failed.items()))
        return Item("jobs", "warn", f"失败的运行：{text}", f"failed runs: {text}")
    return Item("jobs", "ok", f"{total} 次运行全部成功", f"all {total} runs succeeded")


FAILED_LOGINS_WARN = 20  # a day with more failed logins than this is worth a look


def access_item(state: State, day: date, start: float, end: float) -> Item:
    """ROOM-6 / USB-3: the day's logins, failed logins, privilege use and USB storage plugged in
    (each with vendor, product, serial number and the users logged in), from the access_log
    record (agent/actions/access_log.py)."""
    stored = _read(state, AccessLogRecord, "access")
    if isinstance(stored, Item):
        return stored
    if stored is None:
        return Item("access", "nodata", "未记录访问日志", "No access log recorded")
    counts = stored.record.days.get(day.isoformat()) or {}
    n = {k: int(counts.get(k, 0)) for k in ("login", "failed_login", "privilege")}
    sticks = [u for u in stored.record.usb_recent if start <= float(u.get("ts", 0)) < end]
    named = "; ".join(
        f"{time.strftime('%H:%M', time.localtime(float(u['ts'])))} "
        f"{' '.join(str((u.get('detail') or {}).get(k, '')) for k in ('vendor', 'product', 'serial'))}"
        f" ({u.get('user') or '-'})"
        for u in sticks[:5]
    )
    level: Level = "warn" if n["failed_login"] > FAILED_LOGINS_WARN else "ok"
    zh = (f"登录 {n['login']} 次，登录失败 {n['failed_login']} 次，特权使用 {n['privilege']} 次，"
          f"U 盘插入 {len(sticks)} 次")
    en = (f"{n['login']} logins, {n['failed_login']} failed logins, {n['privilege']} privilege uses, "
          f"{len(sticks)} USB storage insertions")  # fmt: skip
    if named:
        zh, en = f"{zh}：{named}", f"{en}: {named}"
    return Item("access", level, zh, en)


def inspect(state: State, day: date, backup_configured: bool, now: float | None = None) -> list[Item]:
    """The summary lines of the day's record, in the order they are printed."""
    now = time.time() if now is None else now
    start, end = day_bounds(day)
    return [
        health_item(state, now),
        compliance_item(state),
        backup_item(state, now, backup_configured),
        devices_item(state),
        jobs_item(job_days(state, start, end)),
        access_item(state, day, start, end),
    ]
