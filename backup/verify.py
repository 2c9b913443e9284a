"""Verification (BAK-2): `restic check` plus a rotating `--read-data-subset n/t`.

Each run reads one slice n of t of each repository's data; the next run reads slice n+1. With
t = 30 and a daily schedule, all data of both repositories is read within a month. The slice
offsets are kept by the caller (the agent's state) and passed in.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from backup.errors import BackupError
from backup.locks import settle_locks
from backup.model import CheckResult
from backup.plan import Plan
from backup.restic import Repository
from backup.results import VerifyResult
from collectors.system.runner import Runner


def next_part(previous: int | None, parts: int) -> int:
    """The slice to read after `previous` (1-based, wrapping): None -> 1, parts -> 1."""
    if parts <= 1:
        return 1
    return (previous or 0) % parts + 1


def verify_repository(
    plan: Plan, runner: Runner, repo: Repository, *, subset: str, timeout: float
) -> CheckResult:
    """Check one repository; a check that cannot even run is a failed result naming why."""
    restic = plan.restic(repo, runner)
    started = time.monotonic()
    try:
        settle_locks(restic, wait=plan.lock_wait, exclusive=True)
        result = restic.check(read_data_subset=subset, timeout=timeout)
        if not result.ok:
            return result
        return dataclasses.replace(result, size_bytes=restic.stats_size(timeout=timeout))
    except BackupError as exc:
        return CheckResult(
            repo.name, False, subset, time.monotonic() - started, (exc.detail,), exc.kind.value
        )


def run_verify(
    plan: Plan,
    runner: Runner,
    *,
    parts: int,
    previous: Mapping[str, int],
    timeout: float,
    full: bool = False,
) -> VerifyResult:
    """Check every repository in parallel, each reading its next data slice (`full`: all data)."""
    chosen = {r.name: next_part(previous.get(r.name), parts) for r in plan.repositories}

    def one(repo: Repository) -> CheckResult:
        subset = "100%" if full else (f"{chosen[repo.name]}/{parts}" if parts > 1 else "100%")
        return verify_repository(plan, runner, repo, subset=subset, timeout=timeout)

    with ThreadPoolExecutor(max_workers=len(plan.repositories)) as pool:
        checks = tuple(pool.map(one, plan.repositories))
    return VerifyResult(checks, chosen)
