"""The handlers of `hostward backup init|run|snapshots|verify|drill|prune|offline` (the parser is
agent/commands/backup_cmd.py). Each goes through the same action as the daemon's job
(agent/actions/backup.py) and only prints.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent import console
from agent.actions import backup as actions
from agent.actions.backup_plan import journal, plan_for
from agent.commands import common
from agent.commands.backup_show import (
    Progress,
    print_drill,
    print_run,
    print_snapshots,
    print_verify,
)
from backup.coverage import coverage
from backup.errors import BackupError, RepositoryMissing
from backup.mirror import create_mirror, local_path
from backup.mounts import unmounted
from backup.plan import NotConfigured
from collectors.system.runner import SubprocessRunner

EXIT_PARTIAL = 3


def _fail(message: str) -> int:
    print(f"hostward backup: {message}", file=sys.stderr)
    return common.EXIT_FAILED


def cmd_init(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    try:
        plan = plan_for(loaded.config, loaded.state_dir, require_sources=False)
    except NotConfigured as exc:
        return _fail(str(exc))
    runner = SubprocessRunner()
    code = common.EXIT_OK
    for repo in plan.repositories:
        if args.only and repo.name != args.only:
            continue
        restic = plan.restic(repo, runner)
        try:
            try:
                restic.config()
                print(f"{repo.name}: already initialised / 已存在 ({repo.url})")
                continue
            except RepositoryMissing:
                where = local_path(repo.url)
                why = unmounted(str(where)) if where is not None and not args.allow_unmounted else ""
                if why:
                    print(
                        f"{repo.name}: refused / 拒绝: {why}; the repository would land on the disk "
                        f"below the mount point. Mount the backup disk and run init again "
                        f"(or --allow-unmounted if {where} is really meant) / 请先挂载备份盘",
                        file=sys.stderr,
                    )
                    code = common.EXIT_FAILED
                    continue
                primary = plan.mirror_source(repo)
                if primary is not None:  # a local secondary starts as a mirror of the primary
                    create_mirror(primary.url, repo.url, repo.name)
                    print(f"{repo.name}: mirror of the primary / 主仓库的镜像 ({repo.url})")
                else:
                    restic.init()
        except BackupError as exc:
            print(f"{repo.name}: {exc.kind.value}: {exc.detail}", file=sys.stderr)
            code = common.EXIT_FAILED
            continue
        journal(loaded.state_dir, "backup.init", {"repository": repo.name, "url": repo.url})
        print(f"{repo.name}: initialised / 已初始化 ({repo.url})")
    return code


def cmd_run(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    state = common.open_state(loaded)
    progress = Progress(enabled=sys.stderr.isatty() and not args.json)
    try:
        result = actions.do_backup(
            loaded.config, state, loaded.state_dir,
            timeout=float(loaded.config.backup.schedule.timeout),
            on_status=progress.backup_status,
        )  # fmt: skip
    except NotConfigured as exc:
        return _fail(str(exc))
    finally:
        progress.done()
    outcome = actions.outcome_of_run(result)
    state.record_run(
        "backup", result.started, result.duration, outcome.success and not outcome.partial, outcome.error
    )
    if args.json:
        print(console.dumps(result.as_dict(), indent=2))
    else:
        print_run(result)
    return {"ok": common.EXIT_OK, "partial": EXIT_PARTIAL}.get(result.status, common.EXIT_FAILED)


def cmd_snapshots(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    try:
        plan = plan_for(loaded.config, loaded.state_dir, require_sources=False)
    except NotConfigured as exc:
        return _fail(str(exc))
    runner = SubprocessRunner()
    listed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for repo in plan.repositories:
        try:
            listed[repo.name] = plan.restic(repo, runner).snapshots()
        except BackupError as exc:
            errors[repo.name] = f"{exc.kind.value}: {exc.detail}"
    cover = coverage(listed, window=plan.coverage_window)
    # A repository that cannot be listed leaves coverage unknown: never "no gap".
    judged = {**cover.as_dict(), "status": "gap" if cover.gap else "no_gap"}
    if errors:
        judged = {**judged, "gap": None, "status": "unknown", "unknown": sorted(errors)}
    if args.json:
        print(console.dumps({
            "repositories": {n: [s.__dict__ for s in snaps] for n, snaps in listed.items()},
            "errors": errors, "coverage": judged,
            "runs": [{"run_id": r.run_id, "time": r.time, "snapshots": dict(r.snapshot_ids)}
                     for r in cover.rows],
        }, indent=2))  # fmt: skip
    else:
        print_snapshots(listed, cover, errors)
    if errors:
        return common.EXIT_FAILED
    return EXIT_PARTIAL if cover.gap else common.EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    state = common.open_state(loaded)
    try:
        result = actions.do_verify(
            loaded.config,
            state,
            loaded.state_dir,
            timeout=float(loaded.config.backup.verify.schedule.timeout),
            full=args.full,
        )
    except NotConfigured as exc:
        return _fail(str(exc))
    print_verify(result)
    return common.EXIT_OK if result.ok else common.EXIT_FAILED


def cmd_drill(args: argparse.Namespace) -> int:
    if args.full:
        from agent.commands.backup_drill_full_cmd import full_drill_command

        return full_drill_command(args)
    if args.target or args.snapshot != "latest":
        return _fail("--target and --snapshot go with --full / 仅用于 --full")
    loaded = common.load(args)
    state = common.open_state(loaded)
    try:
        results = actions.do_drill(
            loaded.config,
            state,
            loaded.state_dir,
            timeout=float(loaded.config.backup.drill.schedule.timeout),
            only=args.source or "",
        )
    except NotConfigured as exc:
        return _fail(str(exc))
    for result, report in results:
        print_drill(result, report)
    return common.EXIT_OK if results and all(r.ok for r, _ in results) else common.EXIT_FAILED


def cmd_prune(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    state = common.open_state(loaded)
    try:
        results = actions.do_prune(
            loaded.config, state, loaded.state_dir,
            timeout=float(loaded.config.backup.retention.schedule.timeout),
        )  # fmt: skip
    except NotConfigured as exc:
        return _fail(str(exc))
    for r in results:
        print(f"{r.repository}: {r.status} removed={r.removed} {r.error}".rstrip())
    return common.EXIT_OK if all(r.status == "ok" for r in results) else common.EXIT_FAILED


def cmd_offline(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    state = common.open_state(loaded)
    try:
        result = actions.do_offline(
            loaded.config, state, loaded.state_dir, to=args.to, media_id=args.media_id, source=args.source,
            read_subset=args.read_subset,
        )  # fmt: skip
    except NotConfigured as exc:
        return _fail(str(exc))
    except BackupError as exc:
        return _fail(f"{exc.kind.value}: {exc}")
    print(
        f"offline copy / 离线副本: media {result.media_id} at {result.path}, "
        f"{result.snapshots} snapshots ({result.copied} new), newest {result.snapshot_id[:8]}, "
        f"verified (read back {result.subset}) in {result.duration:.1f}s"
    )
    return common.EXIT_OK
