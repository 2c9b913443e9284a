"""`hostward backup ls` and `hostward backup find`: look inside the backups before restoring.

`ls SNAPSHOT [PATH...]` lists one snapshot of one repository (the primary unless `--repo`);
`find PATTERN` searches every snapshot of every configured repository (or `--repo` only), so
ops staff see at once which copy holds the file. `--repo offline --media PATH` reads the
offline copy on removable media. Names that are not UTF-8 (a GB18030 share) are shown decoded
and marked; `--json` prints them as text plus their bytes in hex.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from agent import console
from agent.actions.backup_plan import plan_for
from agent.commands import common
from agent.commands.backup_restore import source_repository
from agent.commands.backup_show import human
from backup.browse import Entry, Listing, Match, find, list_snapshot
from backup.errors import BackupError
from backup.plan import NotConfigured, Plan
from collectors.system.runner import SubprocessRunner

_MARK = {"gb18030": " [GB18030]", "bytes": " [bytes]", "lossy": " [name not UTF-8 / 文件名编码无法识别]"}


def _plan(args: argparse.Namespace) -> Plan | int:
    loaded = common.load(args)
    try:
        return plan_for(loaded.config, loaded.state_dir, require_sources=False)
    except NotConfigured as exc:
        print(f"hostward backup {args.backup_command}: {exc}", file=sys.stderr)
        return common.EXIT_FAILED


def _labels() -> tuple[str, str]:
    if console.chinese_ok():
        return "类型 type  大小 size    修改时间 modified    路径 path", "快照 snapshot"
    return "type  size    modified    path", "snapshot"


def _row(entry: Entry) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.mtime)) if entry.mtime else "-"
    size = human(entry.size) if entry.type == "file" else "-"
    return f"{entry.type:<8} {size:>10}  {when}  {entry.path}{_MARK.get(entry.encoding, '')}"


def cmd_ls(args: argparse.Namespace) -> int:
    plan = _plan(args)
    if isinstance(plan, int):
        return plan
    try:
        restic = plan.restic(source_repository(plan, args.repo, args.media), SubprocessRunner())
        listing = list_snapshot(restic, args.snapshot, args.path, recursive=args.recursive)
    except (BackupError, NotConfigured) as exc:
        return _error("ls", exc)
    if args.json:
        print(console.dumps(_listing_json(listing), indent=2))
        return common.EXIT_OK
    header, word = _labels()
    s = listing.snapshot
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s.time))
    print(f"{word} {s.short_id} ({when}, {s.hostname}) in {listing.repository}: {', '.join(s.paths)}")
    print(header)
    for entry in listing.entries:
        print(_row(entry))
    files = [e for e in listing.entries if e.type == "file"]
    print(f"{len(files)} files, {human(sum(e.size for e in files))}")
    return common.EXIT_OK


def _listing_json(listing: Listing) -> dict[str, Any]:
    s = listing.snapshot
    return {
        "repository": listing.repository,
        "snapshot": {"id": s.id, "short_id": s.short_id, "time": s.time, "hostname": s.hostname,
                     "paths": list(s.paths)},
        "entries": [e.as_dict() for e in listing.entries],
    }  # fmt: skip


def cmd_find(args: argparse.Namespace) -> int:
    plan = _plan(args)
    if isinstance(plan, int):
        return plan
    names: Sequence[str] = [args.repo] if args.repo else [r.name for r in plan.repositories]
    runner = SubprocessRunner()
    found: list[Match] = []
    errors: dict[str, str] = {}
    for name in names:
        try:
            restic = plan.restic(source_repository(plan, name, args.media), runner)
            found.extend(find(restic, args.pattern, args.snapshot))
        except (BackupError, NotConfigured) as exc:
            errors[name] = _why(exc)
    if args.json:
        print(console.dumps({
            "pattern": args.pattern,
            "matches": [{"repository": m.repository, "snapshot": m.snapshot_id, **m.entry.as_dict()}
                        for m in found],
            "errors": errors,
        }, indent=2))  # fmt: skip
    else:
        header, word = _labels()
        last: tuple[str, str] | None = None
        for m in found:
            if (m.repository, m.snapshot_id) != last:
                last = (m.repository, m.snapshot_id)
                print(f"{m.repository} {word} {m.snapshot_id[:8]}:")
                print("  " + header)
            print("  " + _row(m.entry))
        if found or not errors:  # "0 matches" would be a lie when no repository could be searched
            print(f"{len(found)} matches / 个匹配" if console.chinese_ok() else f"{len(found)} matches")
        for name, why in errors.items():
            print(f"hostward backup find: {name}: {why}", file=sys.stderr)
    return common.EXIT_FAILED if errors else common.EXIT_OK


def _why(exc: BackupError | NotConfigured) -> str:
    return f"{exc.kind.value}: {exc.detail}" if isinstance(exc, BackupError) else str(exc)


def _error(command: str, exc: BackupError | NotConfigured) -> int:
    print(f"hostward backup {command}: {_why(exc)}", file=sys.stderr)
    return common.EXIT_FAILED
