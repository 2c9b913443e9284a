"""The records of one backup run: hooks, each repository's outcome, the run and its coverage.

Kept apart from `plan.py` (which runs things) so that readers of stored results (the status
page, `hostward backup show`) depend on data only.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from backup.coverage import Coverage
from backup.model import BackupSummary, Snapshot, Status
from backup.sources import SourceProblem
from common.frozen import frozen

INTERRUPTED = "interrupted"  # error_kind of a repository whose backup was cancelled


@frozen
class HookResult:
    """How one pre or post hook ran: its program, exit code, seconds, and what it said."""

    argv0: str
    phase: str  # "pre" | "post"
    ok: bool
    returncode: int
    duration: float
    message: str = ""


@frozen
class RepoOutcome:
    """How one repository fared in one run.

    `snapshots` is the repository's whole list when `history` is True; otherwise only the
    snapshot(s) this run made or brought (the listing costs a restic start and is made only
    when a coverage gap is suspected). `listed` False: nothing is known about its snapshots.
    `method`: "backup" (its own restic backup), "mirror" (the primary's files, verified) or
    "fallback" (its own backup because the primary had none to mirror).
    """

    repository: str
    status: Status
    started: float
    duration: float
    summary: BackupSummary | None = None
    error: str = ""
    error_kind: str = ""  # an errors.Exit value: repository_missing, wrong_password, ...
    snapshots: tuple[Snapshot, ...] = ()
    listed: bool = True
    history: bool = False
    method: str = "backup"
    caught_up: tuple[str, ...] = ()  # run ids it missed earlier, copied in this run (catchup.py)


@frozen
class RunResult:
    """One backup run: when it started, how long it took, how it ended, each repository's outcome, the
    hooks, the coverage, and the sources that could not be read."""

    run_id: str
    started: float
    duration: float
    status: Status
    repositories: tuple[RepoOutcome, ...]
    hooks: tuple[HookResult, ...] = ()
    coverage: Coverage = field(default_factory=Coverage)
    interrupted: bool = False  # the job was cancelled (shutdown, timeout): restic was stopped
    source_problems: tuple[SourceProblem, ...] = ()  # sources that could not be read: not backed up

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (snapshot lists left out)."""
        return {
            "run_id": self.run_id,
            "started": self.started,
            "duration": self.duration,
            "status": self.status,
            "interrupted": self.interrupted,
            "unreadable_sources": [{"path": p.path, "reason": p.reason} for p in self.source_problems],
            "hooks": [h.__dict__ for h in self.hooks],
            "coverage": self.coverage.as_dict(),
            "repositories": {o.repository: _outcome_dict(o) for o in self.repositories},
        }


def _outcome_dict(o: RepoOutcome) -> dict[str, Any]:
    return {
        "status": o.status,
        "started": o.started,
        "duration": o.duration,
        "error": o.error,
        "error_kind": o.error_kind,
        "method": o.method,
        "caught_up": list(o.caught_up),
        "summary": o.summary.__dict__ if o.summary else None,
        "snapshot_count": len(o.snapshots) if o.history else None,
        "latest_snapshot": o.snapshots[-1].id if o.snapshots else "",
        "latest_time": o.snapshots[-1].time if o.snapshots else None,
    }
