"""`hostward`: parse arguments, call a subcommand handler, map errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from agent import __version__, console
from agent.commands import common

log = logging.getLogger(__name__)


# name, module in agent.commands, help: a command's module (and what it imports) loads only when
# that command runs, so the daemon never carries the CLI's restore, enforce or bcrypt code.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("config", "config_cmd", "print or check the config / 配置文件"),
    ("run", "run_cmd", "run the agent: scheduler, /metrics and status page / 运行代理"),
    ("stop", "stop_cmd", "stop the running agent cleanly / 停止代理"),
    ("service", "service_cmd", "the Windows service: install, remove, start, stop / Windows 服务"),
    ("collect", "collect_cmd", "one host-health snapshot / 采集一次主机健康状况"),
    ("journal", "journal_cmd", "the tamper-evident journal / 工作日志"),
    ("hash-password", "hash_password_cmd", "a bcrypt hash for exporter.basic_auth_users / 生成密码哈希"),
    ("devices", "devices_cmd", "network devices, UPS, room sensors / 机房设备"),
    ("audit", "audit_cmd", "check the written rules, with evidence / 合规审计"),
    ("enforce", "enforce_cmd", "apply opted-in remediations, idempotent / 整改"),
    ("backup", "backup_cmd", "dual backups and restores / 双重备份与恢复"),
    ("inventory", "inventory_cmd", "the asset register of this host (ROOM-5) / 资产登记"),
    ("access-log", "access_log_cmd", "user access logs and USB storage (ROOM-6) / 访问日志"),
    ("report", "report_cmd", "printable reports: daily inspection, fleet compliance / 报告"),
)


def _columns() -> int:
    """shutil.get_terminal_size().columns without shutil, which loads bz2 and lzma (0.4 MiB)
    into the daemon: argparse asks for the width at every argument it adds."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, told the terminal width (see `_columns`)."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        width = _columns() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help uses `_Formatter` unless told otherwise; subcommand parsers
    are of the same class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; only the command named first in `argv` is loaded in full."""
    parser = _Parser(
        prog="hostward",
        description="Keeps machine rooms and office PCs healthy, compliant and backed up.",
    )
    parser.add_argument("--version", action="version", version=f"hostward {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = argv[0] if argv else ""
    for name, module, help_text in COMMANDS:
        if name == wanted:
            importlib.import_module(f"agent.commands.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    console.setup()  # cp1252/cp936 consoles and pipes: replace what cannot be shown, never crash
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except common.ConfigInvalid as exc:
        common.print_problems(exc.error)
        return common.EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
