"""The dual-copy plan: hooks, two independent backups in parallel, coverage by run id.

Why two independent `restic backup` runs rather than `backup` + `restic copy`: see
backup/README.md (measured: copy is slower than a second backup on restic 0.14, and an
independent second copy does not depend on the first one being readable). Every run tags both
snapshots `hostward-run:<run id>`; coverage pairs the snapshots of both repositories by that id.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from backup.config import BackupConfig, HookConfig
from backup.coverage import Coverage, coverage, with_missing
from backup.errors import BackupError, HookFailed, RepositoryLocked
from backup.locks import settle_locks
from backup.model import RUN_TAG, BackupSummary, Snapshot, Status
from backup.restic import Repository, Restic
from collectors.errors import CommandError, HostwardError
from collectors.system.runner import Runner

log = logging.getLogger(__name__)
NAMES = ("primary", "secondary")


class NotConfigured(HostwardError):
    """`backup.sources` or `backup.repositories` is empty."""


@dataclass(frozen=True)
class Plan:
    sources: tuple[str, ...]
    excludes: tuple[str, ...]
    repositories: tuple[Repository, ...]
    pre: tuple[HookConfig, ...] = ()
    post: tuple[HookConfig, ...] = ()
    binary: str = "restic"
    cache_dir: str = ""
    lock_wait: float = 600.0
    command_timeout: float = 300.0

    def restic(self, repo: Repository, runner: Runner) -> Restic:
        return Restic(
            repo, runner, binary=self.binary, cache_dir=self.cache_dir, timeout=self.command_timeout
        )

    def repository(self, name: str) -> Repository:
        for repo in self.repositories:
            if repo.name == name:
                return repo
        raise NotConfigured(f"backup.repositories.{name} is not configured")


def build_plan(config: BackupConfig, default_cache_dir: str, require_sources: bool = True) -> Plan:
    """The plan described by the `backup:` config; raises NotConfigured when it says nothing."""
    repos = []
    for name in NAMES:
        rc = getattr(config.repositories, name)
        if rc is not None:
            repos.append(Repository(name, rc.url, rc.password_file, rc.password_env, rc.limit_upload))
    if not repos:
        raise NotConfigured("backup.repositories has neither primary nor secondary")
    if require_sources and not config.sources:
        raise NotConfigured("backup.sources is empty")
    return Plan(
        sources=config.sources,
        excludes=config.exclude,
        repositories=tuple(repos),
        pre=config.hooks.pre,
        post=config.hooks.post,
        binary=config.restic,
        cache_dir=config.cache_dir or default_cache_dir,
        lock_wait=float(config.lock_wait),
        command_timeout=float(config.command_timeout),
    )


@dataclass(frozen=True)
class HookResult:
    argv0: str
    phase: str  # "pre" | "post"
    ok: bool
    returncode: int
    duration: float
    message: str = ""


@dataclass(frozen=True)
class RepoOutcome:
    """How one repository fared in one run."""

    repository: str
    status: Status
    started: float
    duration: float
    summary: BackupSummary | None = None
    error: str = ""
    error_kind: str = ""  # an errors.Exit value: repository_missing, wrong_password, ...
    snapshots: tuple[Snapshot, ...] = ()
    listed: bool = True  # False: the repository could not be listed, its history is unknown


@dataclass(frozen=True)
class RunResult:
    run_id: str
    started: float
    duration: float
    status: Status
    repositories: tuple[RepoOutcome, ...]
    hooks: tuple[HookResult, ...] = ()
    coverage: Coverage = field(default_factory=Coverage)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (snapshot lists left out)."""
        return {
            "run_id": self.run_id,
            "started": self.started,
            "duration": self.duration,
            "status": self.status,
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
        "summary": o.summary.__dict__ if o.summary else None,
        "snapshot_count": len(o.snapshots),
        "latest_snapshot": o.snapshots[-1].id if o.snapshots else "",
        "latest_time": o.snapshots[-1].time if o.snapshots else None,
    }


def new_run_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now or time.time()))
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def run_backup(
    plan: Plan,
    runner: Runner,
    *,
    timeout: float,
    run_id: str | None = None,
    on_status: Callable[[str, Mapping[str, Any]], None] | None = None,
) -> RunResult:
    """Pre hooks, both backups in parallel, post hooks, coverage. Never raises for a
    repository's failure: each outcome says what happened (errors are data here)."""
    run_id = run_id or new_run_id()
    started = time.time()
    deadline = time.monotonic() + timeout
    hooks = list(_run_hooks(plan.pre, "pre", runner, run_id, deadline))
    outcomes: tuple[RepoOutcome, ...] = ()
    if all(h.ok for h in hooks):
        with ThreadPoolExecutor(max_workers=len(plan.repositories)) as pool:
            futures = [
                pool.submit(_backup_one, plan, runner, repo, run_id, deadline, on_status)
                for repo in plan.repositories
            ]
            outcomes = tuple(f.result() for f in futures)
    else:
        outcomes = tuple(
            RepoOutcome(
                r.name, "failed", time.time(), 0.0, error="skipped: a pre hook failed", error_kind="hook"
            )
            for r in plan.repositories
        )
    hooks += _run_hooks(plan.post, "post", runner, run_id, deadline)
    ran = [o for o in outcomes if o.error_kind != "hook"]
    # A repository that could not be listed (missing, wrong password) surely lacks this run;
    # its older history is unknown, so it is not judged on the other runs.
    cover = with_missing(
        coverage({o.repository: o.snapshots for o in ran if o.listed}),
        {o.repository: run_id for o in ran if not o.listed},
    )
    return RunResult(
        run_id, started, time.time() - started, _status(hooks, outcomes), outcomes, tuple(hooks), cover
    )


def _status(hooks: Sequence[HookResult], outcomes: Sequence[RepoOutcome]) -> Status:
    if not all(h.ok for h in hooks) or not any(o.summary for o in outcomes):
        return "failed"
    return "ok" if all(o.status == "ok" for o in outcomes) else "partial"


def _backup_one(
    plan: Plan,
    runner: Runner,
    repo: Repository,
    run_id: str,
    deadline: float,
    on_status: Callable[[str, Mapping[str, Any]], None] | None,
) -> RepoOutcome:
    started = time.time()
    restic = plan.restic(repo, runner)
    summary: BackupSummary | None = None
    # The snapshot listing (for coverage) runs beside the backup: both spend their first half
    # second in restic's key derivation, on separate CPUs, so the listing costs no wall time.
    # The list after the run is that listing plus the snapshot restic reported saving.
    with ThreadPoolExecutor(max_workers=1) as pool:
        listing = pool.submit(_snapshots_or_none, restic)
        try:
            # `restic backup` never creates a repository: a missing one fails as such. Locks are
            # settled only when restic reports one (each extra restic start costs a key derivation).
            try:
                summary = _backup_call(plan, restic, run_id, deadline, on_status)
            except RepositoryLocked:
                settle_locks(restic, wait=min(plan.lock_wait, _left(deadline)), exclusive=False)
                summary = _backup_call(plan, restic, run_id, deadline, on_status)
            before = listing.result()
            snapshots = _with_new(before if before is not None else (), summary, plan, run_id, started)
            if before is None:  # the listing failed while the backup worked: list again
                snapshots = restic.snapshots()
        except BackupError as exc:
            log.error("backup to %s failed: %s", repo.name, exc)
            before = listing.result()
            return RepoOutcome(
                repo.name,
                "failed",
                started,
                time.time() - started,
                summary,
                exc.detail,
                exc.kind.value,
                before or (),
                listed=before is not None,
            )
    return RepoOutcome(
        repo.name, summary.status, started, time.time() - started, summary, snapshots=snapshots
    )


def _with_new(
    before: tuple[Snapshot, ...], summary: BackupSummary, plan: Plan, run_id: str, started: float
) -> tuple[Snapshot, ...]:
    if any(s.id.startswith(summary.snapshot_id) for s in before):
        return before
    new = Snapshot(
        id=summary.snapshot_id,
        short_id=summary.snapshot_id[:8],
        time=started,
        paths=plan.sources,
        hostname=socket.gethostname(),
        tags=(f"{RUN_TAG}{run_id}", "hostward"),
    )
    return (*before, new)


def _backup_call(
    plan: Plan,
    restic: Restic,
    run_id: str,
    deadline: float,
    on_status: Callable[[str, Mapping[str, Any]], None] | None,
) -> BackupSummary:
    name = restic.repo.name
    return restic.backup(
        plan.sources,
        excludes=plan.excludes,
        tags=(f"{RUN_TAG}{run_id}", "hostward"),
        timeout=_left(deadline),
        on_status=(lambda m: on_status(name, m)) if on_status else None,
    )


def _snapshots_or_none(restic: Restic) -> tuple[Snapshot, ...] | None:
    try:
        return restic.snapshots()
    except BackupError:
        return None


def _left(deadline: float) -> float:
    return max(1.0, deadline - time.monotonic())


def _run_hooks(
    hooks: Sequence[HookConfig], phase: str, runner: Runner, run_id: str, deadline: float
) -> list[HookResult]:
    results = []
    for hook in hooks:
        env = {"HOSTWARD_RUN_ID": run_id, "HOSTWARD_HOOK_PHASE": phase}
        try:
            res = runner.run(hook.argv, timeout=min(float(hook.timeout), _left(deadline)), env=env)
        except CommandError as exc:
            results.append(HookResult(hook.argv[0], phase, False, -1, 0.0, str(exc)))
            break
        message = "timed out" if res.timed_out else (res.stderr_tail(300) if not res.ok else "")
        results.append(HookResult(hook.argv[0], phase, res.ok, res.returncode, res.duration, message))
        if not res.ok:
            log.error("%s hook %s failed: %s", phase, hook.argv[0], message)
            break
    return results


def hook_error(result: RunResult) -> HookFailed | None:
    """The first failed hook as an error, for callers that raise."""
    for h in result.hooks:
        if not h.ok:
            return HookFailed("hooks", f"{h.phase} hook {h.argv0} failed (exit {h.returncode}): {h.message}")
    return None
