"""`hostward inventory [--json|--csv] [--root DIR] [-c FILE]`: the asset register (ROOM-5).

On the live host it goes through the same action as the `inventory` job: the register is read,
compared with the stored one, stored, and its changes journaled and counted
(agent.actions.inventory.store_inventory, one transaction: next to a running daemon nothing is
counted twice or lost). Without --devices the stored devices section (the job's ENTITY-MIB
reading) is kept. As a normal user (no state) it reads and prints and says nothing was stored;
with --root (an offline disk or image, not this host) it stores nothing. The USB storage
history comes from the agent's state. Exit 0: a section that could not be read is shown as an
error in the register, not as a failed command.
"""

from __future__ import annotations

import argparse
import logging
import sys

from agent import console
from agent.actions.inventory import perform_inventory, store_inventory
from agent.commands import common
from agent.commands.inventory_format import format_csv, format_table

log = logging.getLogger("hostward.inventory")


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


def run(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    live = args.root in ("/", "")
    state = common.open_state_or_say(loaded, "inventory") if live else None
    try:
        inventory = perform_inventory(loaded.config, state, root=args.root, devices=args.devices)
        if state is not None:
            keep = () if args.devices else ("devices",)
            store_inventory(state, loaded.state_dir, inventory, log, keep)
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
