"""The "backup" record: the figures of each repository (last backup, check, drill, prune), the
coverage of the last run, the offline copy and configuration warnings. Several writers own
parts of it (backup, verify, drill, prune, offline; the daemon's jobs and the CLI): each writes
through an update of agent/records/backup_updates.py, applied in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any, ClassVar

from agent.records.base import Reader, start
from common.frozen import frozen

KIND = "backup"


@frozen
class RepoCheck:
    """The last `restic check` of a repository (with the data slice it read)."""

    time: float
    ok: bool
    subset: str = ""
    duration: float | None = None
    problems: tuple[str, ...] = ()
    error_kind: str = ""
    size_bytes: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "ok": self.ok, "subset": self.subset, "duration": self.duration,
                "problems": list(self.problems), "error_kind": self.error_kind,
                "size_bytes": self.size_bytes}  # fmt: skip

    @classmethod
    def read(cls, r: Reader) -> RepoCheck:
        return cls(r.number("time"), r.flag("ok"), r.text("subset", ""), r.opt_number("duration"),
                   r.texts("problems"), r.text("error_kind", ""), r.opt_integer("size_bytes"))  # fmt: skip


@frozen
class RepoDrill:
    """The last restore drill from a repository (BAK-5)."""

    time: float
    ok: bool
    duration: float | None = None
    files: int = 0
    bytes: int = 0
    snapshot_id: str = ""
    error: str = ""
    error_kind: str = ""
    report: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "ok": self.ok, "duration": self.duration, "files": self.files,
                "bytes": self.bytes, "snapshot_id": self.snapshot_id, "error": self.error,
                "error_kind": self.error_kind, "report": self.report}  # fmt: skip

    @classmethod
    def read(cls, r: Reader) -> RepoDrill:
        return cls(r.number("time"), r.flag("ok"), r.opt_number("duration"), r.integer("files", 0),
                   r.integer("bytes", 0), r.text("snapshot_id", ""), r.text("error", ""),
                   r.text("error_kind", ""), r.text("report", ""))  # fmt: skip


@frozen
class RepoPrune:
    """The last forget + prune of a repository by the retention policy."""

    time: float
    status: str  # ok, skipped, failed
    removed: int = 0
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "status": self.status, "removed": self.removed, "error": self.error}

    @classmethod
    def read(cls, r: Reader) -> RepoPrune:
        return cls(r.number("time"), r.text("status"), r.integer("removed", 0), r.text("error", ""))


@frozen
class RepoBackup:
    """Everything known about one repository ("primary", "secondary")."""

    last_attempt: float | None = None
    last_success: float | None = None
    duration: float | None = None
    status: str = ""  # ok, partial, failed; "" before the first backup
    error: str = ""
    error_kind: str = ""
    bytes_added: int | None = None
    files: int | None = None
    bytes_processed: int | None = None
    unreadable: int | None = None
    last_snapshot_id: str = ""
    snapshot_count: int | None = None
    latest_snapshot_time: float | None = None
    coverage_gap: int | None = None
    check: RepoCheck | None = None
    drill: RepoDrill | None = None
    prune: RepoPrune | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _REPO_SCALARS:
            value = getattr(self, name)
            if value is not None and value != "":
                out[name] = value
        for name in ("check", "drill", "prune"):
            part = getattr(self, name)
            if part is not None:
                out[name] = part.to_json()
        return out

    @classmethod
    def read(cls, r: Reader) -> RepoBackup:
        check, drill, prune = r.obj("check"), r.obj("drill"), r.obj("prune")
        return cls(
            last_attempt=r.opt_number("last_attempt"), last_success=r.opt_number("last_success"),
            duration=r.opt_number("duration"), status=r.text("status", ""), error=r.text("error", ""),
            error_kind=r.text("error_kind", ""), bytes_added=r.opt_integer("bytes_added"),
            files=r.opt_integer("files"), bytes_processed=r.opt_integer("bytes_processed"),
            unreadable=r.opt_integer("unreadable"), last_snapshot_id=r.text("last_snapshot_id", ""),
            snapshot_count=r.opt_integer("snapshot_count"),
            latest_snapshot_time=r.opt_number("latest_snapshot_time"),
            coverage_gap=r.opt_integer("coverage_gap"),
            check=RepoCheck.read(check) if check else None,
            drill=RepoDrill.read(drill) if drill else None,
            prune=RepoPrune.read(prune) if prune else None,
        )  # fmt: skip


_REPO_SCALARS = (
    "last_attempt", "last_success", "duration", "status", "error", "error_kind", "bytes_added",
    "files", "bytes_processed", "unreadable", "last_snapshot_id", "snapshot_count",
    "latest_snapshot_time", "coverage_gap",
)  # fmt: skip


@frozen
class Coverage:
    """BAK-2 over the recent runs: `gap` missing (run, repository) pairs, `missing` by repository."""

    gap: int
    runs: int = 0
    missing: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"gap": self.gap, "runs": self.runs, "missing": dict(self.missing)}

    @classmethod
    def read(cls, r: Reader) -> Coverage:
        return cls(r.integer("gap"), r.integer("runs", 0), dict(r.mapping("missing")))


@frozen
class OfflineCopy:
    """The last verified copy on removable media (BAK-1)."""

    media_id: str
    time: float
    path: str = ""  # where the media was mounted ("" if not known)
    snapshot_id: str = ""
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"media_id": self.media_id, "time": self.time, "path": self.path,
                "snapshot_id": self.snapshot_id, "source": self.source}  # fmt: skip

    @classmethod
    def read(cls, r: Reader) -> OfflineCopy:
        return cls(r.text("media_id"), r.number("time"), r.text("path", ""), r.text("snapshot_id", ""),
                   r.text("source", ""))  # fmt: skip


@frozen
class BackupRecord:
    """The backup figures of this host: each repository's, the last run and its coverage, the offline
    copy, and configuration warnings."""

    KIND: ClassVar[str] = KIND
    VERSION: ClassVar[int] = 1

    repositories: Mapping[str, RepoBackup] = field(default_factory=dict)
    last_run: Mapping[str, Any] | None = None  # RunResult.as_dict() of the last run, as it was
    coverage: Coverage | None = None
    offline: OfflineCopy | None = None
    offline_max_age: float | None = None
    warnings: tuple[str, ...] = ()

    def repository(self, name: str) -> RepoBackup:
        return self.repositories.get(name) or RepoBackup()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.VERSION,
            "repositories": {n: r.to_json() for n, r in sorted(self.repositories.items())},
            "warnings": list(self.warnings),
        }
        if self.last_run is not None:
            out["last_run"] = dict(self.last_run)
        if self.coverage is not None:
            out["coverage"] = self.coverage.to_json()
        if self.offline is not None:
            out["offline"] = self.offline.to_json()
        if self.offline_max_age is not None:
            out["offline_max_age"] = self.offline_max_age
        return out

    @classmethod
    def from_json(cls, data: Any) -> BackupRecord:
        r = start(cls.KIND, cls.VERSION, data)
        repos = {}
        for name in r.mapping("repositories"):
            entry = r.obj("repositories")
            assert entry is not None
            repo = entry.obj(str(name))
            repos[str(name)] = RepoBackup.read(repo) if repo is not None else RepoBackup()
        coverage, offline = r.obj("coverage"), r.obj("offline")
        last_run = r.obj("last_run")
        return cls(
            repositories=repos,
            last_run=dict(last_run.data) if last_run is not None else None,
            coverage=Coverage.read(coverage) if coverage is not None else None,
            offline=OfflineCopy.read(offline) if offline is not None else None,
            offline_max_age=r.opt_number("offline_max_age"),
            warnings=r.texts("warnings"),
        )
