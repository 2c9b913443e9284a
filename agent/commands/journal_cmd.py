"""`hostward journal verify [-c FILE]`: check the hash chain of the journal (ROOM-4).

Only reads: it works on a read-only state directory (a mounted copy) and creates nothing."""

from __future__ import annotations

import argparse
import sys

from agent.commands import common
from agent.journal import Journal


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("journal", help="the tamper-evident journal / 工作日志")
    sub = p.add_subparsers(dest="journal_command", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="check the hash chain: exit 0 intact, 1 tampered")
    common.add_config_option(verify)
    verify.set_defaults(func=verify_journal)


def verify_journal(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    journal = Journal(loaded.state_dir)
    result = journal.verify()
    for note in result.notes:  # recorded events (a torn tail set aside, a head rebuilt)
        print(f"{journal.path}: note / 注意: {note}")
    if result.ok:
        print(f"{journal.path}: intact, {result.entries} entries / 完整")
        return common.EXIT_OK
    print(
        f"{journal.path}: TAMPERED / 已被篡改: {result.problem} ({result.entries} entries intact before it)",
        file=sys.stderr,
    )
    return common.EXIT_FAILED
