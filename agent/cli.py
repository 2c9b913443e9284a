"""`hostward`: parse arguments, call a subcommand handler, map errors to exit codes.

`hostward run [-c FILE] [--once]`, the daemon, is read without argparse (run_cmd.plain_args):
argparse, with the gettext and locale it loads, would stay in the daemon for its whole life
(0.6 MiB). Every other command, and any other form of `run` (help, a mistake), goes through the
one argparse parser (agent/commands/parser.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from agent import console
from agent.commands import common

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    console.setup()  # cp1252/cp936 consoles and pipes: replace what cannot be shown, never crash
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:
        from agent.commands import run_cmd

        plain = run_cmd.plain_args(argv[1:])
        if plain is not None:
            return _call(run_cmd.run, plain)
    from agent.commands.parser import build_parser

    args = build_parser(argv).parse_args(argv)
    return _call(args.func, args)


def _call(handler: Callable[[Any], int], args: Any) -> int:
    try:
        return handler(args)
    except common.ConfigInvalid as exc:
        common.print_problems(exc.error)
        return common.EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
