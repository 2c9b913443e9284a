"""Updates of the "backup" record, one per writer. Each is frozen and picklable (a worker
process sends it to the daemon) and is applied by State.put_record in one `BEGIN IMMEDIATE`
transaction against the record as stored at that moment: a CLI `hostward backup verify` next to
the daemon's backup job never loses either's figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from agent.records.backup import (
    BackupRecord,
    Coverage,
    OfflineCopy,
    RepoBackup,
    RepoCheck,
    RepoDrill,
    RepoPrune,
)
from backup.outcome import RepoOutcome, RunResult
from backup.results import DrillResult, OfflineResult, PruneResult, VerifyResult
from common.frozen import frozen


def _with(current: BackupRecord | None, repos: Mapping[str, RepoBackup], **changes: object) -> BackupRecord:
    base = current or BackupRecord()
    return replace(base, repositories={**base.repositories, **repos}, **changes)  # type: ignore[arg-type]


def _after_run(entry: RepoBackup, o: RepoOutcome, result: RunResult) -> RepoBackup:
    changes: dict[str, object] = {
        "last_attempt": o.started, "duration": o.duration, "status": o.status, "error": o.error,
        "error_kind": o.error_kind, "coverage_gap": result.coverage.gap_of(o.repository),
    }  # fmt: skip
    if o.summary is not None:
        changes.update(
            bytes_added=o.summary.bytes_added,
            files=o.summary.files_processed,
            bytes_processed=o.summary.bytes_processed,
            unreadable=len(o.summary.unreadable) + len(result.source_problems),
            last_snapshot_id=o.summary.snapshot_id,
        )
        if o.status == "ok":
            changes["last_success"] = o.started + o.duration
    if o.snapshots and o.history:
        changes["snapshot_count"] = len(o.snapshots)
    elif o.summary is not None and entry.snapshot_count is not None:  # not listed: one more
        changes["snapshot_count"] = entry.snapshot_count + 1
    if o.snapshots:
        changes["latest_snapshot_time"] = o.snapshots[-1].time
    return replace(entry, **changes)  # type: ignore[arg-type]


@frozen
class BackupRunUpdate:
    """A backup run: each repository's figures, the run and its coverage, the warnings."""

    result: RunResult
    offline_max_age: float
    warnings: tuple[str, ...]

    def record_type(self) -> type[BackupRecord]:
        return BackupRecord

    def apply(self, current: BackupRecord | None) -> BackupRecord:
        base = current or BackupRecord()
        repos = {
            o.repository: _after_run(base.repository(o.repository), o, self.result)
            for o in self.result.repositories
        }
        cover = self.result.coverage.as_dict()
        return _with(
            current, repos, last_run=self.result.as_dict(), offline_max_age=self.offline_max_age,
            coverage=Coverage(int(cover.get("gap") or 0), int(cover.get("runs") or 0),
                              dict(cover.get("missing") or {})),
            warnings=self.warnings,
        )  # fmt: skip


@frozen
class VerifyUpdate:
    """A `restic check` of each repository."""

    result: VerifyResult
    time: float

    def record_type(self) -> type[BackupRecord]:
        return BackupRecord

    def apply(self, current: BackupRecord | None) -> BackupRecord:
        base = current or BackupRecord()
        repos = {
            c.repository: replace(base.repository(c.repository), check=RepoCheck(
                self.time, c.ok, c.subset, c.duration, tuple(c.problems[:10]), c.error_kind, c.size_bytes))
            for c in self.result.checks
        }  # fmt: skip
        return _with(current, repos)


@frozen
class DrillUpdate:
    """A restore drill from one repository, with the path of its report."""

    result: DrillResult
    report: str

    def record_type(self) -> type[BackupRecord]:
        return BackupRecord

    def apply(self, current: BackupRecord | None) -> BackupRecord:
        r = self.result
        drill = RepoDrill(r.started, r.ok, r.duration, r.files, r.bytes, r.snapshot_id, r.error,
                          r.error_kind, self.report)  # fmt: skip
        base = current or BackupRecord()
        return _with(current, {r.repository: replace(base.repository(r.repository), drill=drill)})


@frozen
class PruneUpdate:
    """Forget + prune of each repository."""

    results: tuple[PruneResult, ...]
    time: float

    def record_type(self) -> type[BackupRecord]:
        return BackupRecord

    def apply(self, current: BackupRecord | None) -> BackupRecord:
        base = current or BackupRecord()
        repos = {
            r.repository: replace(
                base.repository(r.repository), prune=RepoPrune(self.time, r.status, r.removed, r.error)
            )
            for r in self.results
        }
        return _with(current, repos)


@frozen
class OfflineUpdate:
    """A verified copy on removable media."""

    result: OfflineResult
    max_age: float

    def record_type(self) -> type[BackupRecord]:
        return BackupRecord

    def apply(self, current: BackupRecord | None) -> BackupRecord:
        r = self.result
        copy = OfflineCopy(r.media_id, r.time, r.path, r.snapshot_id, r.source)
        return _with(current, {}, offline=copy, offline_max_age=self.max_age)
