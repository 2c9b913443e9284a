"""Retention (BAK-3): forget + prune, scheduled apart from backups.

Never run on a repository whose last check failed: pruning a damaged repository can turn a
repairable problem into lost data. The default policy keeps every snapshot of the last five
years and one per year for good.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from backup.config import RetentionConfig
from backup.errors import BackupError
from backup.locks import settle_locks
from backup.mirror import mirror, sync_deletions
from backup.plan import Plan
from backup.results import PruneResult
from collectors.system.runner import Runner


def keep_args(policy: RetentionConfig) -> tuple[str, ...]:
    """restic forget arguments for `policy`.

    >>> keep_args(RetentionConfig())
    ('--keep-within', '5y', '--keep-yearly', '1000')
    """
    args: list[str] = []
    if policy.keep_within:
        args += ["--keep-within", policy.keep_within]
    for flag, value in (
        ("--keep-daily", policy.keep_daily),
        ("--keep-weekly", policy.keep_weekly),
        ("--keep-monthly", policy.keep_monthly),
        ("--keep-yearly", policy.keep_yearly),
    ):
        if value:
            args += [flag, str(value)]
    return tuple(args)


def run_prune(
    plan: Plan,
    runner: Runner,
    policy: RetentionConfig,
    *,
    last_check_ok: Mapping[str, bool | None],
    timeout: float,
) -> tuple[PruneResult, ...]:
    """forget + prune each repository in turn; skipped where the last check failed or never ran.

    A mirrored secondary is never pruned by restic (a repack there would rename packs the
    primary's later index files still name): after the primary's prune, the files the mirror
    brought and the primary dropped are deleted from it, then `forget` (no prune) applies the
    policy to the snapshots the secondary made on its own."""
    results: list[PruneResult] = []
    pair = plan.mirror_pair()
    for repo in plan.repositories:
        if pair is not None and repo.name == pair[1].name:
            results.append(_prune_mirror(plan, runner, policy, results, timeout))
            continue
        if last_check_ok.get(repo.name) is not True:
            why = "never checked" if last_check_ok.get(repo.name) is None else "its last check failed"
            results.append(PruneResult(repo.name, "skipped", error=f"not pruned: {why}"))
            continue
        restic = plan.restic(repo, runner)
        started = time.monotonic()
        try:
            settled = settle_locks(restic, wait=plan.lock_wait, exclusive=True)
            removed = restic.forget(keep_args(policy), timeout=timeout)
            # A dead process' exclusive lock: an earlier forget/prune was killed (kill -9, a power
            # cut) after forgetting; its unused data would otherwise wait for the next forget.
            if removed or any(lock.exclusive for lock in settled.removed):
                restic.prune(timeout=timeout)
        except BackupError as exc:
            results.append(
                PruneResult(repo.name, "failed", 0, time.monotonic() - started, exc.detail, exc.kind.value)
            )
            continue
        results.append(PruneResult(repo.name, "ok", removed, time.monotonic() - started))
    return tuple(results)


def _prune_mirror(
    plan: Plan, runner: Runner, policy: RetentionConfig, done: list[PruneResult], timeout: float
) -> PruneResult:
    primary, secondary = plan.mirror_pair() or (plan.repositories[0], plan.repositories[-1])
    first = next((r for r in done if r.repository == primary.name), None)
    if first is None or first.status != "ok":
        return PruneResult(secondary.name, "skipped", error="mirror: pruned after the primary's prune only")
    restic = plan.restic(secondary, runner)
    started = time.monotonic()
    try:
        # the primary's prune wrote new packs and indexes: bring them before deleting old ones
        mirror(primary.url, secondary.url, secondary.name)
        sync_deletions(primary.url, secondary.url, secondary.name)
        settle_locks(restic, wait=plan.lock_wait, exclusive=True)
        removed = restic.forget(keep_args(policy), timeout=timeout)
    except BackupError as exc:
        return PruneResult(
            secondary.name, "failed", 0, time.monotonic() - started, exc.detail, exc.kind.value
        )
    return PruneResult(secondary.name, "ok", first.removed + removed, time.monotonic() - started)
