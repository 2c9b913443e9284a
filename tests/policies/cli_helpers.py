"""Run this area's subcommands the way `hostward` does, without depending on the central wiring."""

from __future__ import annotations

import argparse
import contextlib
import io

from agent.commands import audit_cmd, common, enforce_cmd


def hostward(*argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `hostward audit|enforce ...`."""
    parser = argparse.ArgumentParser(prog="hostward")
    sub = parser.add_subparsers(dest="command", required=True)
    audit_cmd.register(sub)
    enforce_cmd.register(sub)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        args = parser.parse_args(list(argv))
        try:
            code = args.func(args)
        except common.ConfigInvalid as exc:
            common.print_problems(exc.error)
            code = common.EXIT_USAGE
    return code, out.getvalue(), err.getvalue()
