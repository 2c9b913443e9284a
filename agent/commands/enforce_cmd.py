"""`hostward enforce [--check ID ...] [--dry-run] [--json] [-c FILE]`.

Applies the remediations of the checks opted in under `audit.enforce`. Exit 0 when everything
is (or, in a dry run, could be put) in place or left alone under a current waiver (SKIP), 1 when
something could not be fixed.
"""

from __future__ import annotations

import argparse
import json

from agent import console
from agent.actions.enforce import perform_enforce
from agent.commands import common
from policies.enforce_base import Change


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("enforce", help="apply opted-in remediations, idempotent / 整改")
    common.add_config_option(p)
    p.add_argument("--check", action="append", metavar="ID", help="only this check (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    p.add_argument("--json", action="store_true", help="print the change records as JSON")
    p.add_argument("--root", default="/", metavar="DIR", help="change files under DIR (an offline image)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    records = perform_enforce(
        loaded.config, loaded.state_dir, only=args.check, dry_run=args.dry_run, root=args.root
    )
    if args.json:
        print(console.dumps([c.to_json() for c in records], indent=2))
    else:
        print(format_records(records))
    return common.EXIT_FAILED if any(c.result is False for c in records) else common.EXIT_OK


def format_records(records: list[Change]) -> str:
    if not records:
        return "nothing to enforce: no check is opted in (audit.enforce) / 未启用任何整改项"
    mark = {True: "ok  ", None: "WOULD", False: "FAIL"}
    lines = []
    for c in records:
        detail = f" {json.dumps(c.changes, ensure_ascii=False)}" if c.changes else ""
        flag = "SKIP " if c.waived is not None else mark[c.result]
        lines.append(f"{flag}  {c.check:<28} {c.name}: {c.comment}{detail}")
    return "\n".join(lines)
