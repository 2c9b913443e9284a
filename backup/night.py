"""One night's dual backup (`run_backup`) of a plan (backup/plan.py): hooks, backups, coverage.

Two ways to give the secondary each night's snapshot (decision and figures: backup/README.md):
- mirror (local secondary made a mirror by `hostward backup init`): one `restic backup` to the
  primary, then its new files copied to the secondary, each verified against its SHA-256 name
  (backup/mirror.py). A night the primary makes no snapshot (disk missing, full, locked) or a
  file does not match, the secondary gets its own `restic backup`: it is complete either way.
- independent: one `restic backup` per repository, in parallel (remote secondaries, or
  `backup.secondary_mode: independent`).
Every snapshot is tagged `hostward-run:<run id>`; coverage pairs the repositories by that id
(a mirrored snapshot has the same id in both).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from backup.catchup import catch_up
from backup.config import HookConfig
from backup.coverage import coverage, with_missing
from backup.errors import BackupError, Interrupted, RepositoryLocked
from backup.excludes import protected_excludes
from backup.locks import settle_locks
from backup.mirror import MirrorMismatch, mirror
from backup.model import RUN_TAG, BackupSummary, Snapshot, Status
from backup.outcome import INTERRUPTED, HookResult, RepoOutcome, RunResult
from backup.plan import Plan
from backup.restic import Repository, Restic
from backup.sources import SourceProblem, check_sources
from collectors.system.runner import Runner
from common.errors import CommandError
from common.frozen import frozen

log = logging.getLogger(__name__)


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
    cancel: threading.Event | None = None,
    list_history: bool = True,
) -> RunResult:
    """Pre hooks, the backups (mirror or two independent ones), post hooks, coverage. Never
    raises for a repository's failure: each outcome says what happened (errors are data here).

    `list_history` False skips the snapshot listings (one restic start per repository) and
    judges coverage on this run alone: the nightly run does so when the previous run left no
    gap. `cancel` (with a runner that honours it) stops restic and marks the run interrupted.
    """
    run_id = run_id or new_run_id()
    started = time.time()
    deadline = time.monotonic() + timeout
    hooks = list(_run_hooks(plan.pre, "pre", runner, run_id, deadline))
    # After the pre hooks (a hook may mount a disk or write the dump that is a source).
    problems = check_sources(plan.sources) if plan.inspect_sources else ()
    readable = tuple(s for s in plan.sources if s not in {p.path for p in problems})
    night = _Night(replace(plan, sources=readable), runner, run_id, deadline, on_status, cancel, list_history)
    for problem in problems:
        log.error("backup source %s", problem)
    if all(h.ok for h in hooks) and not night.cancelled() and readable:
        outcomes = night.run_all()
    else:
        why, kind = ("cancelled", INTERRUPTED) if night.cancelled() else ("a pre hook failed", "hook")
        if not readable and all(h.ok for h in hooks) and not night.cancelled():
            why, kind = "no backup source can be read", "sources"
        outcomes = tuple(
            RepoOutcome(r.name, "failed", time.time(), 0.0, error=f"skipped: {why}", error_kind=kind)
            for r in plan.repositories
        )
    if problems:  # what was not read is in neither copy: each repository's backup is partial
        named = "sources not backed up: " + "; ".join(str(p) for p in problems[:5])
        outcomes = tuple(
            replace(o, status="partial", error="; ".join(filter(None, (o.error, named))))
            if o.status == "ok" else o
            for o in outcomes
        )  # fmt: skip
    if not night.cancelled():
        hooks += _run_hooks(plan.post, "post", runner, run_id, night.deadline)
    ran = [o for o in outcomes if o.error_kind not in ("hook", "sources")]
    # A repository that could not be listed (missing, wrong password) surely lacks this run;
    # its older history is unknown, so it is not judged on the other runs.
    cover = with_missing(
        coverage({o.repository: o.snapshots for o in ran if o.listed}, window=plan.coverage_window),
        {o.repository: run_id for o in ran if not o.listed},
    )
    status = _status(hooks, outcomes, problems)
    return RunResult(
        run_id, started, time.time() - started, status, outcomes, tuple(hooks), cover, night.cancelled(),
        problems,
    )  # fmt: skip


def _status(
    hooks: Sequence[HookResult], outcomes: Sequence[RepoOutcome], problems: Sequence[SourceProblem]
) -> Status:
    if not all(h.ok for h in hooks) or not any(o.summary for o in outcomes):
        return "failed"
    return "ok" if all(o.status == "ok" for o in outcomes) and not problems else "partial"


@frozen
class _Night:
    """One run's backups: the context every repository's step shares."""

    plan: Plan
    runner: Runner
    run_id: str
    deadline: float
    on_status: Callable[[str, Mapping[str, Any]], None] | None
    cancel: threading.Event | None
    list_history: bool

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def run_all(self) -> tuple[RepoOutcome, ...]:
        pair = self.plan.mirror_pair()
        if pair is not None:
            return self.mirrored(*pair)
        with ThreadPoolExecutor(max_workers=len(self.plan.repositories)) as pool:
            outcomes = tuple(pool.map(self.backup, self.plan.repositories))
        if not self.list_history or self.cancelled():
            return outcomes
        return catch_up(self.plan, self.runner, outcomes, self.deadline)

    def mirrored(self, primary: Repository, secondary: Repository) -> tuple[RepoOutcome, RepoOutcome]:
        """Back up the primary, then mirror its new files to the secondary; the secondary gets its
        own backup when the primary made no snapshot or a file of it does not match its hash."""
        first = self.backup(primary)
        if first.summary is None or self.cancelled():
            if self.cancelled():
                return first, _failed(secondary, time.time(), Interrupted(secondary.name, "cancelled"))
            log.warning("the primary made no snapshot: the secondary gets its own backup")
            return first, replace(self.backup(secondary), method="fallback")
        started = time.time()
        try:
            mirror(primary.url, secondary.url, secondary.name, stop=self.cancelled)
        except MirrorMismatch as exc:
            log.error("%s: the secondary gets its own backup", exc)
            return first, replace(self.backup(secondary), method="fallback")
        except BackupError as exc:
            log.error("mirror to %s failed: %s", secondary.name, exc)
            return first, replace(_failed(secondary, started, exc), method="mirror")
        snapshots, history = first.snapshots[-1:], False
        if self.list_history:
            listed = _snapshots_or_none(self.plan.restic(secondary, self.runner))
            snapshots, history = (listed, True) if listed is not None else (snapshots, False)
        return first, RepoOutcome(
            secondary.name, first.status, started, time.time() - started,
            replace(first.summary, repository=secondary.name),
            snapshots=snapshots, history=history, method="mirror",
        )  # fmt: skip

    def backup(self, repo: Repository) -> RepoOutcome:
        started = time.time()
        restic = self.plan.restic(repo, self.runner)
        summary: BackupSummary | None = None
        # With `list_history`, the snapshot listing runs beside the backup: both spend their
        # first half second in restic's key derivation, on separate CPUs.
        with ThreadPoolExecutor(max_workers=1) as pool:
            listing = pool.submit(_snapshots_or_none, restic) if self.list_history else None
            try:
                # `restic backup` never creates a repository: a missing one fails as such. Locks
                # are settled only when restic reports one (each restic start derives the key).
                try:
                    summary = self._backup_call(restic)
                except RepositoryLocked:
                    settle_locks(restic, wait=min(self.plan.lock_wait, _left(self.deadline)), exclusive=False)
                    summary = self._backup_call(restic)
            except BackupError as exc:
                log.error("backup to %s failed: %s", repo.name, exc)
                before = listing.result() if listing else None
                return replace(_failed(repo, started, exc), snapshots=before or (), listed=before is not None,
                               history=before is not None)  # fmt: skip
            before = listing.result() if listing else None
            if listing and before is None:  # the listing failed while the backup worked: again
                before = _snapshots_or_none(restic)
            snapshots = _with_new(before or (), summary, self.plan, self.run_id, started)
        return RepoOutcome(
            repo.name, summary.status, started, time.time() - started, summary,
            snapshots=snapshots, history=before is not None,
        )  # fmt: skip

    def _backup_call(self, restic: Restic) -> BackupSummary:
        name, on_status = restic.repo.name, self.on_status
        return restic.backup(
            self.plan.sources,
            excludes=(*self.plan.excludes, *protected_excludes(self.plan.sources, self.plan.protect)),
            tags=(f"{RUN_TAG}{self.run_id}", "hostward"),
            fs_snapshot=self.plan.fs_snapshot,
            timeout=_left(self.deadline),
            on_status=(lambda m: on_status(name, m)) if on_status else None,
        )


def _failed(repo: Repository, started: float, exc: BackupError) -> RepoOutcome:
    return RepoOutcome(
        repo.name, "failed", started, time.time() - started, None, exc.detail, exc.kind.value, listed=False
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
