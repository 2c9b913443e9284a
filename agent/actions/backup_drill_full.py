"""The full disaster-recovery drill: `do_full_drill` (CLI), `drill_full_job` (scheduler).

Results go to the state record kind "drill_full" (written here only, read by
`agent.drill_full_record`):

    {"repositories": {"primary": FullDrillResult.to_json(), "secondary": ...}}

The last full drill of each repository replaces the one before; a failed drill is stored too
(its time and error), so the alert on the last *successful* drill's age is read from
`last_ok`, kept from the latest passing run.
"""

from __future__ import annotations

import logging
from pathlib import Path

from agent.actions.backup_plan import journal, plan_for
from agent.actions.base import JobContext, JobOutcome
from agent.config.schema import Config
from agent.records.drill_full import FullDrillUpdate
from agent.state import State
from backup.drill_full import run_full_drill
from backup.drill_full_result import FullDrillResult
from backup.plan import NotConfigured
from collectors.system.cancellable import CancellableRunner
from collectors.system.runner import Runner, SubprocessRunner
from common.schema.common import Schedule

log = logging.getLogger(__name__)


def default_target(config: Config, state_dir: Path) -> str:
    return config.backup.drill.full_target or str(state_dir / "drill-full")


def store_full_drill(state: State, result: FullDrillResult) -> None:
    state.put_record(FullDrillUpdate(result))


def do_full_drill(
    config: Config,
    state: State,
    state_dir: Path,
    *,
    timeout: float,
    only: str = "",
    target: str = "",
    snapshot: str = "latest",
    runner: Runner | None = None,
) -> list[FullDrillResult]:
    """One full drill per configured repository (or `only` that one), one after another: two
    at once would need room for two copies and halve each one's measured throughput."""
    plan = plan_for(config, state_dir, require_sources=False)
    where = target or default_target(config, state_dir)
    out = []
    for repo in plan.repositories:
        if only and repo.name != only:
            continue
        result = run_full_drill(
            plan, runner or SubprocessRunner(), repo, where, snapshot=snapshot, timeout=timeout
        )
        store_full_drill(state, result)
        journal(state_dir, "backup.drill_full", {
            "repository": result.repository, "ok": result.ok, "snapshot": result.snapshot_id,
            "files": result.files, "bytes": result.bytes, "duration": result.duration,
            "throughput": result.throughput, "target": result.target, "error": result.error,
        })  # fmt: skip
        out.append(result)
    if only and not out:
        raise NotConfigured(f"no {only} repository is configured")
    return out


def drill_full_job(ctx: JobContext) -> JobOutcome:
    try:
        results = do_full_drill(
            ctx.config, ctx.state, ctx.state_dir, timeout=ctx.remaining(),
            runner=CancellableRunner(ctx.cancel),
        )  # fmt: skip
    except NotConfigured as exc:
        return JobOutcome(success=False, error=str(exc))
    bad = [f"{r.repository}: {r.error_kind or 'failed'}: {r.error}" for r in results if not r.ok]
    return JobOutcome(success=not bad, error="; ".join(bad)[:1000])


def drill_full_schedule(config: Config) -> Schedule | None:
    b = config.backup
    return b.drill.full_schedule if b.repositories.primary or b.repositories.secondary else None
