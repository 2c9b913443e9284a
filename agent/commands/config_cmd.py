"""`hostward config default | validate [-c FILE]`."""

from __future__ import annotations

import argparse

from agent.actions.backup_warnings import backup_warnings
from agent.commands import common
from agent.config import default_text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("config", help="print or check the config / 配置文件")
    sub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    default = sub.add_parser("default", help="print the fully commented default config")
    default.set_defaults(func=print_default)
    validate = sub.add_parser(
        "validate",
        help="check a config; every problem as FILE:LINE: key.path: message (exit 2)",
    )
    common.add_config_option(validate)
    validate.set_defaults(func=validate_config)


def print_default(args: argparse.Namespace) -> int:
    print(default_text(), end="")
    return common.EXIT_OK


def validate_config(args: argparse.Namespace) -> int:
    loaded = common.load(args)  # ConfigInvalid: the CLI prints every problem and exits 2
    for warning in backup_warnings(loaded.config):
        print(f"{loaded.source}: warning / 警告: {warning}")
    print(f"{loaded.source}: valid")
    return common.EXIT_OK
