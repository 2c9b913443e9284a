"""Retention (BAK-3): forget + prune, scheduled apart from backups.

Never run on a repository whose last check failed: pruning a damaged repository can turn a
repairable problem into lost data. The default policy keeps every snapshot of the last five
years and one per year for good.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from backup.config import RetentionConfig
from backup.errors import BackupError
from backup.locks import settle_locks
from backup.plan import Plan
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


@dataclass(frozen=True)
class PruneResult:
    repository: str
    status: str  # "ok", "skipped", "failed"
    removed: int = 0
    duration: float = 0.0
    error: str = ""
    error_kind: str = ""


def run_prune(
    plan: Plan,
    runner: Runner,
    policy: RetentionConfig,
    *,
    last_check_ok: Mapping[str, bool | None],
    timeout: float,
) -> tuple[PruneResult, ...]:
    """forget + prune each repository in turn; skipped where the last check failed or never ran."""
    results = []
    for repo in plan.repositories:
        if last_check_ok.get(repo.name) is not True:
            why = "never checked" if last_check_ok.get(repo.name) is None else "its last check failed"
            results.append(PruneResult(repo.name, "skipped", error=f"not pruned: {why}"))
            continue
        restic = plan.restic(repo, runner)
        started = time.monotonic()
        try:
            settle_locks(restic, wait=plan.lock_wait, exclusive=True)
            removed = restic.forget(keep_args(policy), timeout=timeout)
            if removed:
                restic.prune(timeout=timeout)
        except BackupError as exc:
            results.append(
                PruneResult(repo.name, "failed", 0, time.monotonic() - started, exc.detail, exc.kind.value)
            )
            continue
        results.append(PruneResult(repo.name, "ok", removed, time.monotonic() - started))
    return tuple(results)
