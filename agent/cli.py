"""`hostward`: parse arguments, call a subcommand handler, map errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from agent import __version__
from agent.commands import common

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    # Imported here so that `hostward --version` stays instant and the modules stay explicit.
    # One module per line, sorted: each issue adds its command here and to the tuple below.
    from agent.commands import (
        audit_cmd,
        backup_cmd,
        collect_cmd,
        config_cmd,
        devices_cmd,
        enforce_cmd,
        hash_password_cmd,
        journal_cmd,
        run_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="hostward",
        description="Keeps machine rooms and office PCs healthy, compliant and backed up.",
    )
    parser.add_argument("--version", action="version", version=f"hostward {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands = (
        config_cmd,
        run_cmd,
        collect_cmd,
        journal_cmd,
        hash_password_cmd,
        devices_cmd,
        audit_cmd,
        enforce_cmd,
        backup_cmd,
    )
    for module in commands:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
