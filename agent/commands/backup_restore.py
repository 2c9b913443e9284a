"""`hostward backup restore`: for ops staff under pressure, safe by default and journaled.

The journal entry says who (the user, and the sudo user behind it), what (repository,
snapshot, paths), when, where to, and how it ended.

`--from offline --media PATH` reads the monthly offline copy (`hostward backup offline`) on
removable media instead of a configured repository. One restic run resolves the snapshot
before the restore (a dry run or --in-place lists it instead, in that same one run).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from agent.actions.backup_plan import journal, plan_for
from agent.commands import common
from agent.commands.backup_show import Progress, human
from backup.browse import find_snapshot, list_snapshot
from backup.errors import BackupError
from backup.model import Snapshot
from backup.plan import NotConfigured, Plan
from backup.restic import Repository
from backup.restore import RestorePreview, check_target, resolve_target, restic_path, restore
from collectors.system.runner import SubprocessRunner


def source_repository(plan: Plan, source: str, media: str | None) -> Repository:
    """The configured repository `source`, or the offline copy on `media` (`--from offline`)."""
    if source == "offline":
        if not media:
            raise NotConfigured("--from offline needs --media PATH (where the media is mounted)")
        from backup.offline import offline_repository  # only for the offline copy

        return offline_repository(plan, media)
    return plan.repository(source)


def empty_target(target: str) -> bool:
    """Whether the target, as restic will use it and as the disk will (symlinks followed), is
    absent or an empty directory."""
    resolved = resolve_target(target)
    for path in {resolved.lexical, resolved.physical}:
        if os.path.lexists(path) and not (os.path.isdir(path) and not os.listdir(path)):
            return False
    return True


def restore_command(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    entry: dict[str, Any] = {
        "who": {"uid": getattr(os, "getuid", lambda: None)(), "sudo_user": os.environ.get("SUDO_USER", "")},
        "from": args.source, "media": args.media, "snapshot": args.snapshot, "paths": list(args.path),
        "target": restic_path(args.target), "target_physical": resolve_target(args.target).physical,
        "in_place": args.in_place, "dry_run": args.dry_run,
        "started": time.time(),
    }  # fmt: skip
    try:
        plan = plan_for(loaded.config, loaded.state_dir, require_sources=False)
        restic = plan.restic(source_repository(plan, args.source, args.media), SubprocessRunner())
        seen: RestorePreview | None = None
        snapshot: Snapshot | None = None
        sources = loaded.config.backup.sources
        if args.dry_run or args.in_place:  # what would be written (over live data): list it
            listing = list_snapshot(restic, args.snapshot, args.path, recursive=True, names=False)
            snapshot = listing.snapshot
            files = [e for e in listing.entries if e.type == "file"]
            seen = RestorePreview(snapshot, tuple(args.path), len(files), sum(e.size for e in files))
            where = check_target(args.target, list(args.path) or list(snapshot.paths), sources, args.in_place)
        elif empty_target(args.target):
            # Nothing under an empty target can be overwritten: only its overlap with live data is
            # judged, and restic resolves the snapshot itself (one repository open in all).
            where = check_target(args.target, [], sources, in_place=False)
        else:
            snapshot = find_snapshot(restic, args.snapshot)
            where = check_target(args.target, list(args.path) or list(snapshot.paths), sources, False)
        if snapshot is not None:
            entry["snapshot_id"] = snapshot.id
    except NotConfigured as exc:
        print(f"hostward backup restore: {exc}", file=sys.stderr)
        return common.EXIT_FAILED
    except BackupError as exc:
        entry.update(status="refused" if exc.repository == "restore" else "failed", error=exc.detail)
        journal(loaded.state_dir, "backup.restore", entry)
        print(
            f"hostward backup restore: {exc.kind.value if exc.repository != 'restore' else 'refused'}: "
            f"{exc.detail}",
            file=sys.stderr,
        )
        return common.EXIT_FAILED
    if snapshot is not None:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(snapshot.time))
        what = f"快照 snapshot {snapshot.short_id} ({when})"
    else:
        what = f"快照 snapshot {args.snapshot}"
    counts = f": {seen.files} files, {human(seen.bytes)}" if seen is not None else ""
    print(
        f"{what} from {restic.repo.name}{counts}"
        f" -> {where.lexical}" + (f" (= {where.physical})" if where.physical != where.lexical else "")
    )
    if args.dry_run and seen is not None:
        entry.update(status="dry_run", files=seen.files, bytes=seen.bytes)
        journal(loaded.state_dir, "backup.restore", entry)
        print("演习 dry run: nothing written / 未写入任何文件")
        return common.EXIT_OK
    progress = Progress(enabled=sys.stderr.isatty())
    try:
        result = restore(
            restic,
            snapshot if snapshot is not None else args.snapshot,
            args.target,
            paths=args.path,
            total=seen.bytes if seen is not None else 0,
            # the watcher walks the target each second: only for someone watching
            on_progress=progress.restore_status if progress.enabled else None,
        )
    except BackupError as exc:
        progress.done()
        entry.update(status="failed", error=exc.detail, duration=time.time() - entry["started"])
        journal(loaded.state_dir, "backup.restore", entry)
        print(f"hostward backup restore: {exc.kind.value}: {exc.detail}", file=sys.stderr)
        return common.EXIT_FAILED
    progress.done()
    entry.update(
        status="ok", snapshot_id=result.snapshot_id, files=result.files, bytes=result.bytes,
        duration=result.duration, counted_by=result.counted_by, bytes_from=result.bytes_from,
    )  # fmt: skip
    journal(loaded.state_dir, "backup.restore", entry)
    print(
        f"恢复完成 restored {result.files} files of snapshot {result.snapshot_id[:8]}, "
        f"{human(result.bytes)} in {result.duration:.1f}s "
        f"({human(result.throughput)}/s), content verified against the snapshot"
    )
    return common.EXIT_OK
