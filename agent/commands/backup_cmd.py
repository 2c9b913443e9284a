"""`hostward backup init|run|snapshots|verify|drill|prune|restore|offline [-c FILE]`.

Exit codes: 0 ok, 1 failed, 3 partial (some repository or some files not backed up, or a
coverage gap). A missing repository is never created except by `hostward backup init`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent import console
from agent.actions import backup as actions
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


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("backup", help="dual backups and restores / 双重备份与恢复")
    sub = p.add_subparsers(dest="backup_command", metavar="ACTION", required=True)

    def add(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_text)
        common.add_config_option(sp)
        sp.set_defaults(func=func)
        return sp

    sp = add("init", "create the configured repositories (explicitly) / 初始化备份仓库", cmd_init)
    sp.add_argument("--only", choices=("primary", "secondary"), help="only this repository")
    sp.add_argument(
        "--allow-unmounted", action="store_true",
        help="create it even where a disk should be mounted but is not (writes to that disk's mount point)",
    )  # fmt: skip
    sp = add("run", "back up to both repositories now / 立即备份", cmd_run)
    sp.add_argument("--json", action="store_true", help="print the result as JSON")
    sp = add("snapshots", "both repositories side by side, with coverage / 快照列表", cmd_snapshots)
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp = add("verify", "restic check + the next data slice of both / 校验", cmd_verify)
    sp.add_argument("--full", action="store_true", help="read all data, not one slice")
    sp = add("drill", "restore a sample and compare hashes (BAK-5) / 恢复演练", cmd_drill)
    sp.add_argument(
        "--from", "--repo", dest="source", choices=("primary", "secondary"), help="only this repository"
    )
    sp.add_argument(
        "--full", action="store_true",
        help="restore the whole snapshot, verify every file, measure the time (ROOM-2) / 完整灾难恢复演练",
    )  # fmt: skip
    sp.add_argument(
        "--target", metavar="DIR", help="--full: restore under DIR (default <state_dir>/drill-full)"
    )
    sp.add_argument("--snapshot", default="latest", metavar="ID|latest", help="--full: this snapshot")
    add("prune", "forget + prune by the retention policy / 按保留策略清理", cmd_prune)
    sp = add("restore", "restore files from a snapshot / 从快照恢复", cmd_restore)
    sp.add_argument("--snapshot", required=True, metavar="ID|latest", help="snapshot id (prefix) or latest")
    sp.add_argument("--from", dest="source", default="primary", choices=("primary", "secondary", "offline"))
    sp.add_argument("--media", metavar="PATH", help="with --from offline: where the offline media is mounted")
    sp.add_argument("--path", action="append", default=[], metavar="P", help="only this path (repeatable)")
    sp.add_argument("--target", required=True, metavar="DIR", help="directory to restore into")
    sp.add_argument("--dry-run", action="store_true", help="show what would be restored, write nothing")
    sp.add_argument("--in-place", action="store_true", help="allow overwriting live data (dangerous)")
    from agent.commands.backup_browse import register_browse

    register_browse(add)
    sp = add("offline", "write a verified copy to removable media (BAK-1) / 离线副本", cmd_offline)
    sp.add_argument("--to", required=True, metavar="PATH", help="mount point of the media")
    sp.add_argument("--media-id", required=True, metavar="ID", help="label written on the media")
    sp.add_argument("--from", dest="source", default="primary", choices=("primary", "secondary"))
    sp.add_argument(
        "--read-subset", default="100%", metavar="N%|n/t",
        help="how much of the media's data to read back (default: all) / 读回校验的比例",
    )  # fmt: skip


def _fail(message: str) -> int:
    print(f"hostward backup: {message}", file=sys.stderr)
    return common.EXIT_FAILED


def cmd_init(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    try:
        plan = actions.plan_for(loaded.config, loaded.state_dir, require_sources=False)
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
        actions.journal(loaded.state_dir, "backup.init", {"repository": repo.name, "url": repo.url})
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
        plan = actions.plan_for(loaded.config, loaded.state_dir, require_sources=False)
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


def cmd_restore(args: argparse.Namespace) -> int:
    from agent.commands.backup_restore import restore_command

    return restore_command(args)


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
