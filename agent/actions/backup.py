"""Backup jobs: `backup_job`, `verify_job`, `prune_job`, `drill_job` (and helpers the CLI shares).

Every job merges its figures into the "backup" record (agent/records/backup.py) through an
update of its own (agent/records/backup_updates.py), applied in one transaction: the daemon's
jobs and the CLI commands (which call the same functions) never lose each other's figures.

and appends a journal entry (ROOM-4). A journal that cannot be written is logged; it never
fails the backup itself (side channels never fail the main job).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from agent.actions.backup_plan import journal, plan_for
from agent.actions.backup_warnings import backup_warnings
from agent.actions.base import JobContext, JobOutcome
from agent.config.schema import Config
from agent.records.backup import BackupRecord
from agent.records.backup_updates import (
    BackupRunUpdate,
    DrillUpdate,
    OfflineUpdate,
    PruneUpdate,
    VerifyUpdate,
)
from agent.records.key_updates import MergeMapping
from agent.state import State
from backup.drill import run_drill, write_report
from backup.errors import BackupError
from backup.night import run_backup
from backup.offline import offline_copy
from backup.outcome import RunResult
from backup.plan import NotConfigured, Plan
from backup.results import DrillResult, OfflineResult, PruneResult, VerifyResult
from backup.retention import run_prune
from backup.verify import run_verify
from collectors.system.cancellable import CancellableRunner
from collectors.system.runner import Runner, SubprocessRunner

log = logging.getLogger(__name__)
RECORD_KIND = BackupRecord.KIND
PARTS_KEY = "backup.verify.parts"


def last_check_ok(state: State) -> dict[str, bool | None]:
    stored = state.record(BackupRecord)
    repos = stored.record.repositories if stored is not None else {}
    return {name: None if r.check is None else r.check.ok for name, r in repos.items()}


# -- the jobs ----------------------------------------------------------------------------------


def do_backup(
    config: Config,
    state: State,
    state_dir: Path,
    *,
    timeout: float,
    runner: Runner | None = None,
    on_status: Callable[[str, Mapping[str, Any]], None] | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Run the dual backup, store and journal it. Raises NotConfigured.

    The snapshot listings (a restic start per repository) are made only when a coverage gap is
    suspected: no earlier run stored, or the last one left a gap or a failed repository."""
    plan = plan_for(config, state_dir, state=state)
    if runner is None:
        runner = CancellableRunner(cancel) if cancel is not None else SubprocessRunner()
    result = run_backup(
        plan, runner, timeout=timeout, on_status=on_status, cancel=cancel, list_history=gap_suspected(state)
    )
    try:
        warnings = tuple(backup_warnings(config))
        state.put_record(BackupRunUpdate(result, float(config.backup.offline.max_age), warnings))
    finally:  # journaled even when the state cannot be written (the backup itself happened)
        _journal_run(state_dir, plan, result)
    return result


def _journal_run(state_dir: Path, plan: Plan, result: RunResult) -> None:
    journal(state_dir, "backup.run", {
        "run_id": result.run_id, "status": result.status, "sources": list(plan.sources),
        "repositories": {
            o.repository: {"status": o.status, "error": o.error, "method": o.method,
                           "snapshot": o.summary.snapshot_id if o.summary else ""}
            for o in result.repositories
        },
        "coverage_gap": result.coverage.gap, "interrupted": result.interrupted,
        "unreadable_sources": [str(p) for p in result.source_problems],
        "unreadable": {o.repository: list(o.summary.unreadable[:20]) for o in result.repositories
                       if o.summary is not None and o.summary.unreadable},
    })  # fmt: skip


def gap_suspected(state: State) -> bool:
    """True unless the last stored run covered every repository with no gap."""
    stored = state.record(BackupRecord)
    last = stored.record.last_run if stored is not None else None
    if not last or stored is None:
        return True
    repos = last.get("repositories") or {}
    healthy = all(r.get("status") == "ok" for r in repos.values())
    counted = all(r.snapshot_count is not None for r in stored.record.repositories.values())
    return not (healthy and counted and repos and not (last.get("coverage") or {}).get("gap"))


def backup_job(ctx: JobContext) -> JobOutcome:
    try:
        result = do_backup(ctx.config, ctx.state, ctx.state_dir, timeout=ctx.remaining(), cancel=ctx.cancel)
    except NotConfigured as exc:
        return JobOutcome(success=False, error=str(exc))
    return outcome_of_run(result)


def outcome_of_run(result: RunResult) -> JobOutcome:
    problems = [
        f"{o.repository}: {o.error_kind or o.status}: {o.error}"
        for o in result.repositories
        if o.status != "ok"
    ]
    problems += [f"{h.phase} hook {h.argv0}: {h.message or h.returncode}" for h in result.hooks if not h.ok]
    problems += [
        f"{o.repository}: restic could not read {len(o.summary.unreadable)}: "
        + ", ".join(o.summary.unreadable[:5])
        for o in result.repositories
        if o.summary is not None and o.summary.unreadable
    ]
    if result.coverage.gap:
        problems.append(f"coverage gap: {result.coverage.as_dict()['missing']}")
    error = "; ".join(problems)[:1000]
    if result.interrupted:
        return JobOutcome(success=False, error=f"interrupted: {error}"[:1000])
    if result.status == "failed":
        return JobOutcome(success=False, error=error)
    return JobOutcome(success=True, error=error, partial=result.status == "partial")


def do_verify(
    config: Config,
    state: State,
    state_dir: Path,
    *,
    timeout: float,
    full: bool = False,
    runner: Runner | None = None,
) -> VerifyResult:
    plan = plan_for(config, state_dir, require_sources=False)
    previous = state.get(PARTS_KEY, {}) or {}
    result = run_verify(
        plan,
        runner or SubprocessRunner(),
        parts=config.backup.verify.read_data_parts,
        previous=previous,
        timeout=timeout,
        full=full,
    )
    state.put_record(VerifyUpdate(result, time.time()))
    state.update(MergeMapping(PARTS_KEY, dict(result.parts)))  # a CLI verify next to the job's
    journal(
        state_dir,
        "backup.verify",
        {
            c.repository: {"ok": c.ok, "subset": c.subset, "problems": list(c.problems[:5])}
            for c in result.checks
        },
    )
    return result


def verify_job(ctx: JobContext) -> JobOutcome:
    try:
        result = do_verify(
            ctx.config,
            ctx.state,
            ctx.state_dir,
            timeout=ctx.remaining(),
            runner=CancellableRunner(ctx.cancel),
        )
    except NotConfigured as exc:
        return JobOutcome(success=False, error=str(exc))
    bad = [f"{c.repository}: {'; '.join(c.problems[:3])}" for c in result.checks if not c.ok]
    return JobOutcome(success=not bad, error="; ".join(bad)[:1000])


def do_prune(
    config: Config, state: State, state_dir: Path, *, timeout: float, runner: Runner | None = None
) -> tuple[PruneResult, ...]:
    """Forget + prune both repositories by the retention policy, store and journal it (the
    scheduled job and `hostward backup prune`). Raises NotConfigured."""
    plan = plan_for(config, state_dir, require_sources=False)
    results = run_prune(
        plan,
        runner or SubprocessRunner(),
        config.backup.retention,
        last_check_ok=last_check_ok(state),
        timeout=timeout,
    )
    try:
        state.put_record(PruneUpdate(results, time.time()))
    finally:  # journaled even when the state cannot be written (the prune itself happened)
        journal(
            state_dir,
            "backup.prune",
            {r.repository: {"status": r.status, "removed": r.removed, "error": r.error} for r in results},
        )
    return results


def do_offline(
    config: Config,
    state: State,
    state_dir: Path,
    *,
    to: str,
    media_id: str,
    source: str = "primary",
    read_subset: str = "100%",
    runner: Runner | None = None,
) -> OfflineResult:
    """A verified copy of `source` on the media mounted at `to` (BAK-1): stored and journaled;
    a failure is journaled and raised (BackupError). Raises NotConfigured."""
    plan = plan_for(config, state_dir, require_sources=False)
    entry = {"media_id": media_id, "to": to, "from": source}
    try:
        result = offline_copy(plan, runner or SubprocessRunner(), to=to, media_id=media_id, source=source,
                              read_subset=read_subset)  # fmt: skip
    except BackupError as exc:
        journal(state_dir, "backup.offline", {**entry, "status": "failed", "error": exc.detail})
        raise
    try:
        state.put_record(OfflineUpdate(result, float(config.backup.offline.max_age)))
    finally:  # journaled even when the state cannot be written (the copy exists)
        done = {"status": "ok", "error": "", "snapshot": result.snapshot_id, "path": result.path}
        journal(state_dir, "backup.offline", {**entry, **done})
    return result


def prune_job(ctx: JobContext) -> JobOutcome:
    try:
        results = do_prune(
            ctx.config, ctx.state, ctx.state_dir, timeout=ctx.remaining(),
            runner=CancellableRunner(ctx.cancel),
        )  # fmt: skip
    except NotConfigured as exc:
        return JobOutcome(success=False, error=str(exc))
    bad = [f"{r.repository}: {r.status}: {r.error}" for r in results if r.status != "ok"]
    return JobOutcome(success=not bad, error="; ".join(bad)[:1000])


def do_drill(
    config: Config,
    state: State,
    state_dir: Path,
    *,
    timeout: float,
    only: str = "",
    runner: Runner | None = None,
) -> list[tuple[DrillResult, str]]:
    plan = plan_for(config, state_dir, require_sources=False)
    cfg = config.backup.drill
    out = []
    for repo in plan.repositories:
        if only and repo.name != only:
            continue
        result = run_drill(
            plan,
            runner or SubprocessRunner(),
            repo,
            sample_files=cfg.sample_files,
            sample_bytes=cfg.sample_bytes,
            scratch_dir=cfg.scratch_dir,
            timeout=timeout,
        )
        try:
            report = str(write_report(result, state_dir / "drills"))
        except OSError as exc:
            log.error("cannot write the drill report: %s", exc)
            report = ""
        state.put_record(DrillUpdate(result, report))
        journal(
            state_dir,
            "backup.drill",
            {
                "repository": repo.name,
                "ok": result.ok,
                "snapshot": result.snapshot_id,
                "files": result.files,
                "duration": result.duration,
                "error": result.error,
                "report": report,
            },
        )
        out.append((result, report))
    return out


def drill_job(ctx: JobContext) -> JobOutcome:
    try:
        results = do_drill(
            ctx.config,
            ctx.state,
            ctx.state_dir,
            timeout=ctx.remaining(),
            runner=CancellableRunner(ctx.cancel),
        )
    except NotConfigured as exc:
        return JobOutcome(success=False, error=str(exc))
    bad = [f"{r.repository}: {r.error_kind or 'failed'}: {r.error}" for r, _ in results if not r.ok]
    return JobOutcome(success=not bad, error="; ".join(bad)[:1000])
