"""`hostward inventory [--json|--csv] [--root DIR] [-c FILE]`: the asset register (ROOM-5).

It reads the host with the same code as the `inventory` job but stores nothing (the job keeps
the register and journals its changes), so it works next to a running daemon and as a normal
user. The USB storage history comes from the agent's state when it can be read. Exit 0: a
section that could not be read is shown as an error in the register, not as a failed command.
"""

from __future__ import annotations

import argparse
import sys

from agent import console
from agent.actions.inventory import perform_inventory
from agent.commands import common
from agent.commands.inventory_format import format_csv, format_table
from agent.state import State, StateError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("inventory", help="the asset register of this host (ROOM-5) / 资产登记")
    common.add_config_option(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    out.add_argument("--csv", action="store_true", help="print CSV (UTF-8 with BOM, for Excel)")
    p.add_argument(
        "--root",
        default="/",
        metavar="DIR",
        help="read a mounted disk or image offline (links stay inside DIR)",
    )
    p.add_argument(
        "--devices",
        action="store_true",
        help="also the hardware register of the SNMP devices under devices: (ENTITY-MIB, over the network)",
    )
    p.set_defaults(func=run)


def _state(args: argparse.Namespace) -> State | None:
    if args.root not in ("/", ""):
        return None
    try:
        return common.open_state(common.load(args))
    except (StateError, OSError):
        return None  # a normal user still gets the register, without the USB history


def run(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    state = _state(args)
    try:
        inventory = perform_inventory(loaded.config, state, root=args.root, devices=args.devices)
    finally:
        if state is not None:
            state.close()
    payload = inventory.to_payload()
    if args.csv:
        sys.stdout.flush()
        sys.stdout.buffer.write(format_csv(payload).encode("utf-8"))
        sys.stdout.buffer.flush()
    elif args.json:
        print(console.dumps(payload, indent=2))
    else:
        print(format_table(payload, chinese=console.chinese_ok()))
    return common.EXIT_OK
