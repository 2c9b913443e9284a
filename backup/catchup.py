"""Catch-up: a repository that missed recent runs gets them from the other one (`restic copy`).

With two independent backups (an sftp secondary, or `secondary_mode: independent`), a night
the remote site was down, full or refused its key leaves that run only in the primary: a
coverage gap. The next run that lists both repositories copies the missing runs' snapshots
from the repository that has them (`restic copy` keeps their `hostward-run:` tags, so the
gap closes by run id). A mirrored secondary does not need this: the mirror brings every file
it has not brought yet (backup/mirror.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from backup.coverage import coverage
from backup.errors import BackupError
from backup.outcome import RepoOutcome
from collectors.system.runner import Runner

if TYPE_CHECKING:
    from backup.plan import Plan

log = logging.getLogger(__name__)


def catch_up(
    plan: Plan, runner: Runner, outcomes: Sequence[RepoOutcome], deadline: float
) -> tuple[RepoOutcome, ...]:
    """`outcomes`, where a repository that lacked recent runs now holds copies of them.

    Only when both repositories backed up this run and were listed (their history is known);
    a copy that fails is logged and leaves the gap visible for the next run."""
    if len(outcomes) != 2 or not all(o.summary is not None and o.history for o in outcomes):
        return tuple(outcomes)
    cover = coverage({o.repository: o.snapshots for o in outcomes}, window=plan.coverage_window)
    by_name = {o.repository: o for o in outcomes}
    result = dict(by_name)
    for dst, runs in cover.missing.items():
        src = next(name for name in by_name if name != dst)
        wanted = set(runs)
        ids = [s.id for s in by_name[src].snapshots if s.run_id in wanted]
        if not ids:
            continue
        restic = plan.restic(plan.repository(dst), runner)
        try:
            restic.copy(plan.repository(src), ids, timeout=max(1.0, deadline - time.monotonic()))
            listed = restic.snapshots()
        except BackupError as exc:
            log.error("catching up %s from %s failed: %s", dst, src, exc)
            continue
        log.warning("%s caught up %d missed run(s) from %s", dst, len(ids), src)
        result[dst] = replace(by_name[dst], snapshots=listed, caught_up=tuple(sorted(wanted)))
    return tuple(result[o.repository] for o in outcomes)
