"""`hostward backup restore`: for ops staff under pressure, safe by default and journaled.

The journal entry says who (the user, and the sudo user behind it), what (repository,
snapshot, paths), when, where to, and how it ended.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from agent.actions import backup as actions
from agent.commands import common
from agent.commands.backup_show import Progress, human
from backup.errors import BackupError
from backup.plan import NotConfigured
from backup.restore import check_target, preview, resolve_snapshot, restore
from collectors.system.runner import SubprocessRunner


def restore_command(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    entry: dict[str, Any] = {
        "who": {"uid": getattr(os, "getuid", lambda: None)(), "sudo_user": os.environ.get("SUDO_USER", "")},
        "from": args.source, "snapshot": args.snapshot, "paths": list(args.path),
        "target": os.path.abspath(args.target), "in_place": args.in_place, "dry_run": args.dry_run,
        "started": time.time(),
    }  # fmt: skip
    try:
        plan = actions.plan_for(loaded.config, loaded.state_dir, require_sources=False)
        restic = plan.restic(plan.repository(args.source), SubprocessRunner())
        snapshot = resolve_snapshot(restic, args.snapshot)
        entry["snapshot_id"] = snapshot.id
        seen, _files = preview(restic, snapshot, args.path)
        check_target(
            args.target, list(args.path) or list(snapshot.paths), loaded.config.backup.sources, args.in_place
        )
    except NotConfigured as exc:
        print(f"hostward backup restore: {exc}", file=sys.stderr)
        return common.EXIT_FAILED
    except BackupError as exc:
        entry.update(status="refused" if exc.repository == "restore" else "failed", error=exc.detail)
        actions.journal(loaded.state_dir, "backup.restore", entry)
        print(
            f"hostward backup restore: {exc.kind.value if exc.repository != 'restore' else 'refused'}: "
            f"{exc.detail}",
            file=sys.stderr,
        )
        return common.EXIT_FAILED
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(snapshot.time))
    print(
        f"快照 snapshot {snapshot.short_id} ({when}) from {args.source}: "
        f"{seen.files} files, {human(seen.bytes)}"
        f" -> {os.path.abspath(args.target)}"
    )
    if args.dry_run:
        entry.update(status="dry_run", files=seen.files, bytes=seen.bytes)
        actions.journal(loaded.state_dir, "backup.restore", entry)
        print("演习 dry run: nothing written / 未写入任何文件")
        return common.EXIT_OK
    progress = Progress(enabled=sys.stderr.isatty())
    try:
        result = restore(
            restic,
            snapshot,
            args.target,
            paths=args.path,
            total=seen.bytes,
            on_progress=progress.restore_status,
        )
    except BackupError as exc:
        progress.done()
        entry.update(status="failed", error=exc.detail, duration=time.time() - entry["started"])
        actions.journal(loaded.state_dir, "backup.restore", entry)
        print(f"hostward backup restore: {exc.kind.value}: {exc.detail}", file=sys.stderr)
        return common.EXIT_FAILED
    progress.done()
    entry.update(status="ok", files=result.files, bytes=result.bytes, duration=result.duration)
    actions.journal(loaded.state_dir, "backup.restore", entry)
    print(
        f"恢复完成 restored {result.files} files, {human(result.bytes)} in {result.duration:.1f}s "
        f"({human(result.throughput)}/s), content verified against the snapshot"
    )
    return common.EXIT_OK
