"""Backup jobs: `backup_job`, `verify_job`, `prune_job`, `drill_job` (and helpers the CLI shares).

Every job merges its figures into the State record kind "backup":

    {"repositories": {"primary": {"last_attempt", "last_success", "status", "duration",
                                  "bytes_added", "files", "snapshot_count", "coverage_gap",
                                  "check": {...}, "drill": {...}, "prune": {...}}, ...},
     "last_run": {...}, "coverage": {...}, "offline": {...}, "offline_max_age": seconds}

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

from agent.actions.backup_warnings import backup_warnings
from agent.actions.base import JobContext, JobOutcome
from agent.config.schema import Config
from agent.state import State
from backup.drill import DrillResult, run_drill, write_report
from backup.offline import OfflineResult
from backup.outcome import RunResult
from backup.plan import NotConfigured, Plan, build_plan, run_backup
from backup.retention import run_prune
from backup.verify import VerifyResult, run_verify
from collectors.errors import HostwardError
from collectors.system.cancellable import CancellableRunner
from collectors.system.runner import Runner, SubprocessRunner

log = logging.getLogger(__name__)
RECORD_KIND = "backup"
PARTS_KEY = "backup.verify.parts"


def plan_for(
    config: Config, state_dir: Path, require_sources: bool = True, state: State | None = None
) -> Plan:
    """The backup plan of `config`; restic's cache defaults to <state_dir>/restic-cache. The
    state directory and the last offline media (from `state`) are kept out of every backup."""
    protect = [str(state_dir)]
    record = state.record(RECORD_KIND) if state is not None else None
    offline = record.payload.get("offline") if record else None
    if isinstance(offline, Mapping) and isinstance(offline.get("path"), str):
        protect.append(offline["path"])
    return build_plan(config.backup, str(state_dir / "restic-cache"), require_sources, protect)


def journal(state_dir: Path, kind: str, data: Mapping[str, Any]) -> None:
    """Append to the journal; a failure is logged, never raised."""
    try:
        from agent.journal import Journal

        Journal(state_dir).append(kind, data)
    except (HostwardError, OSError) as exc:
        log.error("journal: cannot record %s: %s", kind, exc)


def update_record(state: State, mutate: Callable[[dict[str, Any]], None]) -> None:
    """Read-modify-write the "backup" record (jobs and CLI commands each own their keys)."""
    current = state.record(RECORD_KIND)
    payload: dict[str, Any] = _plain(current.payload) if current else {}
    payload.setdefault("repositories", {})
    mutate(payload)
    state.put_record(RECORD_KIND, payload)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _repo(payload: dict[str, Any], name: str) -> dict[str, Any]:
    repos: dict[str, Any] = payload.setdefault("repositories", {})
    entry: dict[str, Any] = repos.setdefault(name, {})
    return entry


def store_run(state: State, result: RunResult, offline_max_age: float) -> None:
    def mutate(payload: dict[str, Any]) -> None:
        payload["last_run"] = result.as_dict()
        payload["coverage"] = result.coverage.as_dict()
        payload["offline_max_age"] = offline_max_age
        for o in result.repositories:
            entry = _repo(payload, o.repository)
            entry["last_attempt"] = o.started
            entry["duration"] = o.duration
            entry["status"] = o.status
            entry["error"] = o.error
            entry["error_kind"] = o.error_kind
            if o.summary is not None:
                entry["bytes_added"] = o.summary.bytes_added
                entry["files"] = o.summary.files_processed
                entry["bytes_processed"] = o.summary.bytes_processed
                entry["unreadable"] = len(o.summary.unreadable) + len(result.source_problems)
                entry["last_snapshot_id"] = o.summary.snapshot_id
                if o.status == "ok":
                    entry["last_success"] = o.started + o.duration
            if o.snapshots and o.history:
                entry["snapshot_count"] = len(o.snapshots)
            elif o.summary is not None and "snapshot_count" in entry:  # not listed: one more
                entry["snapshot_count"] = int(entry["snapshot_count"]) + 1
            if o.snapshots:
                entry["latest_snapshot_time"] = o.snapshots[-1].time
            entry["coverage_gap"] = result.coverage.gap_of(o.repository)

    update_record(state, mutate)


def store_verify(state: State, result: VerifyResult) -> None:
    now = time.time()

    def mutate(payload: dict[str, Any]) -> None:
        for c in result.checks:
            _repo(payload, c.repository)["check"] = {
                "time": now, "ok": c.ok, "subset": c.subset, "duration": c.duration,
                "problems": list(c.problems[:10]), "error_kind": c.error_kind,
                "size_bytes": c.size_bytes,
            }  # fmt: skip

    update_record(state, mutate)
    state.put(PARTS_KEY, dict(result.parts))


def store_drill(state: State, result: DrillResult, report: str) -> None:
    def mutate(payload: dict[str, Any]) -> None:
        _repo(payload, result.repository)["drill"] = {
            "time": result.started, "ok": result.ok, "duration": result.duration,
            "files": result.files, "bytes": result.bytes, "snapshot_id": result.snapshot_id,
            "error": result.error, "error_kind": result.error_kind, "report": report,
        }  # fmt: skip

    update_record(state, mutate)


def store_offline(state: State, result: OfflineResult, max_age: float) -> None:
    def mutate(payload: dict[str, Any]) -> None:
        payload["offline"] = {
            "media_id": result.media_id,
            "time": result.time,
            "path": result.path,
            "snapshot_id": result.snapshot_id,
            "source": result.source,
        }
        payload["offline_max_age"] = max_age

    update_record(state, mutate)


def last_check_ok(state: State) -> dict[str, bool | None]:
    record = state.record(RECORD_KIND)
    repos = record.payload.get("repositories", {}) if record else {}
    out: dict[str, bool | None] = {}
    for name, entry in repos.items():
        check = entry.get("check")
        out[name] = None if not check else bool(check.get("ok"))
    return out


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
        store_run(state, result, float(config.backup.offline.max_age))
        warnings = backup_warnings(config)
        update_record(state, lambda payload: payload.__setitem__("warnings", warnings))
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
    record = state.record(RECORD_KIND)
    last = record.payload.get("last_run") if record else None
    if not last or record is None:
        return True
    repos = last.get("repositories") or {}
    healthy = all(r.get("status") == "ok" for r in repos.values())
    counted = all("snapshot_count" in e for e in (record.payload.get("repositories") or {}).values())
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
    store_verify(state, result)
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


def prune_job(ctx: JobContext) -> JobOutcome:
    try:
        plan = plan_for(ctx.config, ctx.state_dir, require_sources=False)
    except NotConfigured as exc:
        return JobOutcome(success=False, error=str(exc))
    results = run_prune(
        plan,
        CancellableRunner(ctx.cancel),
        ctx.config.backup.retention,
        last_check_ok=last_check_ok(ctx.state),
        timeout=ctx.remaining(),
    )
    now = time.time()

    def mutate(payload: dict[str, Any]) -> None:
        for r in results:
            _repo(payload, r.repository)["prune"] = {
                "time": now,
                "status": r.status,
                "removed": r.removed,
                "error": r.error,
            }

    update_record(ctx.state, mutate)
    journal(
        ctx.state_dir,
        "backup.prune",
        {r.repository: {"status": r.status, "removed": r.removed, "error": r.error} for r in results},
    )
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
        store_drill(state, result, report)
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
