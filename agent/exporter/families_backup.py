"""Backup families (`hostward_backup_*`) from the stored "backup" record.

Per repository (label `repository="primary|secondary"`): last attempt and last success times,
duration, bytes added, files, snapshot count, coverage gap, last check result, last drill
result and duration; per host: the offline copy's age. A scrape reads the record only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from agent.drill_full_record import full_drills
from agent.records.backup import BackupRecord, RepoBackup
from agent.records.base import StateError
from agent.state import Snapshot

log = logging.getLogger(__name__)
BACKUP_KIND = BackupRecord.KIND
_STATUS = {"ok": 1.0, "partial": 0.5, "failed": 0.0}
Getter = Callable[[RepoBackup], float | None]

# (name, help, getter) per repository; a getter returns None when the figure is unknown.
_PER_REPO: tuple[tuple[str, str, Getter], ...] = (
    ("hostward_backup_last_attempt_timestamp_seconds", "When the last backup to this repository started.",
     lambda r: r.last_attempt),
    ("hostward_backup_last_success_timestamp_seconds", "When the last complete backup here ended.",
     lambda r: r.last_success),
    ("hostward_backup_duration_seconds", "How long the last backup to this repository took.",
     lambda r: r.duration),
    ("hostward_backup_status", "Last backup: 1 ok, 0.5 partial (files unreadable), 0 failed.",
     lambda r: _STATUS.get(r.status) if r.status else None),
    ("hostward_backup_added_bytes", "Bytes the last backup added to the repository.",
     lambda r: r.bytes_added),
    ("hostward_backup_files", "Files the last backup processed.", lambda r: r.files),
    ("hostward_backup_unreadable_files", "Source files the last backup could not read.",
     lambda r: r.unreadable),
    ("hostward_backup_snapshots", "Snapshots in the repository after the last backup.",
     lambda r: r.snapshot_count),
    ("hostward_backup_latest_snapshot_timestamp_seconds", "Time of the newest snapshot in the repository.",
     lambda r: r.latest_snapshot_time),
    ("hostward_backup_coverage_gap", "Recent hostward runs with no snapshot in this repository (BAK-2).",
     lambda r: r.coverage_gap),
    ("hostward_backup_check_success", "Last `restic check` of this repository: 1 passed, 0 failed.",
     lambda r: None if r.check is None else float(r.check.ok)),
    ("hostward_backup_repository_size_bytes", "Bytes the repository stores, measured at the last check.",
     lambda r: None if r.check is None else r.check.size_bytes),
    ("hostward_backup_check_timestamp_seconds", "When this repository was last checked.",
     lambda r: None if r.check is None else r.check.time),
    ("hostward_backup_drill_success", "Last restore drill from this repository: 1 passed, 0 failed (BAK-5).",
     lambda r: None if r.drill is None else float(r.drill.ok)),
    ("hostward_backup_drill_duration_seconds", "Time to restore the sample in the last drill.",
     lambda r: None if r.drill is None else r.drill.duration),
    ("hostward_backup_drill_timestamp_seconds", "When the last restore drill ran.",
     lambda r: None if r.drill is None else r.drill.time),
    ("hostward_backup_prune_success", "Last forget + prune of this repository: 1 ok, 0 skipped or failed.",
     lambda r: None if r.prune is None else float(r.prune.status == "ok")),
    ("hostward_backup_prune_timestamp_seconds", "When this repository was last pruned.",
     lambda r: None if r.prune is None else r.prune.time),
)  # fmt: skip


def backup_families(snapshot: Snapshot, now: Callable[[], float] = time.time) -> Iterator[Metric]:
    yield from full_drill_families(snapshot)
    try:
        stored = snapshot.get(BackupRecord)
    except StateError as exc:  # shown as hostward_state_record_valid{kind="backup"} 0
        log.warning("%s", exc)
        return
    if stored is None:
        return
    record = stored.record
    for name, doc, getter in _PER_REPO:
        family = GaugeMetricFamily(name, doc, labels=("repository",))
        for repo, entry in sorted(record.repositories.items()):
            value = getter(entry)
            if value is not None:
                family.add_metric((repo,), float(value))
        if family.samples:
            yield family
    if record.coverage is not None:
        yield GaugeMetricFamily(
            "hostward_backup_coverage_gap_total_runs",
            "Missing (run, repository) pairs over both repositories.",
            value=float(record.coverage.gap),
        )
    offline = record.offline
    if offline is not None:
        yield GaugeMetricFamily(
            "hostward_backup_offline_copy_age_seconds",
            "Age of the last verified offline copy (BAK-1: monthly).",
            value=max(0.0, now() - offline.time),
        )
        yield GaugeMetricFamily(
            "hostward_backup_offline_copy_timestamp_seconds",
            "When the last verified offline copy was written.",
            value=offline.time,
        )


def full_drill_families(snapshot: Snapshot) -> Iterator[Metric]:
    """The last full disaster-recovery drill per repository (ROOM-2) and the projected time a
    full restore would take today (agent/drill_full_record.py says how it is projected)."""
    views = sorted(full_drills(snapshot).items())
    if not views:
        return
    families = {
        "success": GaugeMetricFamily(
            "hostward_backup_drill_full_success",
            "Last full restore drill from this repository: 1 passed, 0 failed.", labels=("repository",)),
        "time": GaugeMetricFamily(
            "hostward_backup_drill_full_timestamp_seconds",
            "When the last full restore drill that passed started.", labels=("repository",)),
        "duration": GaugeMetricFamily(
            "hostward_backup_drill_full_duration_seconds",
            "Time to restore and verify the whole snapshot in the last passing full drill.",
            labels=("repository",)),
        "bytes": GaugeMetricFamily(
            "hostward_backup_drill_full_bytes",
            "Bytes restored and verified by the last passing full drill.", labels=("repository",)),
        "throughput": GaugeMetricFamily(
            "hostward_backup_drill_full_throughput_bytes_per_second",
            "Restore throughput the last passing full drill measured.", labels=("repository",)),
        "projected": GaugeMetricFamily(
            "hostward_backup_full_restore_projected_seconds",
            "Latest snapshot size / measured full-drill throughput: a full restore today (ROOM-2: 4 h).",
            labels=("repository",)),
    }  # fmt: skip
    for name, view in views:
        families["success"].add_metric((name,), 1.0 if view.last.ok else 0.0)
        ok = view.last_ok
        if ok is not None:
            families["time"].add_metric((name,), ok.started)
            families["duration"].add_metric((name,), ok.duration)
            families["bytes"].add_metric((name,), float(ok.bytes))
            families["throughput"].add_metric((name,), ok.throughput)
        projected = view.projected_seconds
        if projected is not None:
            families["projected"].add_metric((name,), projected)
    yield from (f for f in families.values() if f.samples)
