"""The argparse parser of every command: only the command named first is loaded in full."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from agent import __version__

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


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; only the command named first in `argv` is loaded in full."""
    parser = argparse.ArgumentParser(
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
