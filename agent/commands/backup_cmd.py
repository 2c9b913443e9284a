"""`hostward backup init|run|snapshots|verify|drill|prune|restore|ls|find|offline [-c FILE]`: the parser.

Exit codes: 0 ok, 1 failed, 3 partial (some repository or some files not backed up, or a
coverage gap). A missing repository is never created except by `hostward backup init`.

Each handler is named "module:function" and imported only when its command runs: `backup restore`
loads neither the backup jobs nor the state's record types, so a restore after a failure
starts at once (its time is measured against restic's own in bench/backup/restore_speed.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from agent.commands import common
from common.refs import resolve

Handler = Callable[[argparse.Namespace], int]
REPOS = ("primary", "secondary", "offline")


def _handler(spec: str) -> Handler:
    """The handler "module:function" in agent.commands, imported when it is called."""
    def run(args: argparse.Namespace) -> int:
        handler: Handler = resolve(f"agent.commands.{spec}")
        return handler(args)

    return run


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("backup", help="dual backups and restores / 双重备份与恢复")
    sub = p.add_subparsers(dest="backup_command", metavar="ACTION", required=True)

    def add(name: str, help_text: str, handler: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_text)
        common.add_config_option(sp)
        sp.set_defaults(func=_handler(handler))
        return sp

    sp = add(
        "init", "create the configured repositories (explicitly) / 初始化备份仓库", "backup_jobs_cmd:cmd_init"
    )
    sp.add_argument("--only", choices=("primary", "secondary"), help="only this repository")
    sp.add_argument(
        "--allow-unmounted", action="store_true",
        help="create it even where a disk should be mounted but is not (writes to that disk's mount point)",
    )  # fmt: skip
    sp = add("run", "back up to both repositories now / 立即备份", "backup_jobs_cmd:cmd_run")
    sp.add_argument("--json", action="store_true", help="print the result as JSON")
    sp = add(
        "snapshots",
        "both repositories side by side, with coverage / 快照列表",
        "backup_jobs_cmd:cmd_snapshots",
    )
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp = add("verify", "restic check + the next data slice of both / 校验", "backup_jobs_cmd:cmd_verify")
    sp.add_argument("--full", action="store_true", help="read all data, not one slice")
    sp = add("drill", "restore a sample and compare hashes (BAK-5) / 恢复演练", "backup_jobs_cmd:cmd_drill")
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
    add("prune", "forget + prune by the retention policy / 按保留策略清理", "backup_jobs_cmd:cmd_prune")
    sp = add("restore", "restore files from a snapshot / 从快照恢复", "backup_restore:restore_command")
    sp.add_argument("--snapshot", required=True, metavar="ID|latest", help="snapshot id (prefix) or latest")
    sp.add_argument("--from", dest="source", default="primary", choices=("primary", "secondary", "offline"))
    sp.add_argument("--media", metavar="PATH", help="with --from offline: where the offline media is mounted")
    sp.add_argument("--path", action="append", default=[], metavar="P", help="only this path (repeatable)")
    sp.add_argument("--target", required=True, metavar="DIR", help="directory to restore into")
    sp.add_argument("--dry-run", action="store_true", help="show what would be restored, write nothing")
    sp.add_argument("--in-place", action="store_true", help="allow overwriting live data (dangerous)")
    _register_browse(add)
    sp = add(
        "offline",
        "write a verified copy to removable media (BAK-1) / 离线副本",
        "backup_jobs_cmd:cmd_offline",
    )
    sp.add_argument("--to", required=True, metavar="PATH", help="mount point of the media")
    sp.add_argument("--media-id", required=True, metavar="ID", help="label written on the media")
    sp.add_argument("--from", dest="source", default="primary", choices=("primary", "secondary"))
    sp.add_argument(
        "--read-subset", default="100%", metavar="N%|n/t",
        help="how much of the media's data to read back (default: all) / 读回校验的比例",
    )  # fmt: skip


def _register_browse(add: Callable[[str, str, str], argparse.ArgumentParser]) -> None:
    sp = add("ls", "list the files of one snapshot / 列出快照内容", "backup_browse:cmd_ls")
    sp.add_argument("snapshot", metavar="SNAPSHOT", help="snapshot id (prefix) or latest")
    sp.add_argument("path", nargs="*", metavar="PATH", help="only these directories (as ls shows them)")
    sp.add_argument("-R", "--recursive", action="store_true", help="with PATH: everything below it too")
    _browse_options(sp, "primary")
    sp = add("find", "find files by name in every snapshot / 按文件名搜索备份", "backup_browse:cmd_find")
    sp.add_argument("pattern", metavar="PATTERN", help="a name or glob, e.g. '*.docx' or 'report*'")
    sp.add_argument("--snapshot", metavar="ID|latest", default="", help="only this snapshot")
    _browse_options(sp, None)


def _browse_options(sp: argparse.ArgumentParser, default: str | None) -> None:
    where = "default: primary" if default else "default: every configured repository"
    sp.add_argument("--repo", choices=REPOS, default=default, help=f"which copy to read ({where})")
    sp.add_argument("--media", metavar="PATH", help="with --repo offline: where the offline media is mounted")
    sp.add_argument("--json", action="store_true", help="print JSON")
