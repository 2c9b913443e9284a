"""`hostward stop [-c FILE]`: ask the running agent to stop cleanly (every platform).

Writes `stop-request` into the agent's state directory and waits until the agent takes it
(it removes the file once it has stopped). Exit 0 once taken; 1 if no agent took it within
`--wait` seconds (the request is then withdrawn, so it cannot stop a later start).
"""

from __future__ import annotations

import argparse
import sys
import time

from agent.commands import common


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "stop",
        help="stop the running agent cleanly / 停止代理",
        description=(
            "Ask the agent using this config's state directory to stop: running jobs are "
            "finished or cancelled, state and journal closed, exit 0. Works where there are no "
            "signals (Windows)."
        ),
    )
    common.add_config_option(p)
    p.add_argument("--wait", type=float, default=30.0, metavar="SECONDS", help="how long to wait (30)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agent.control import clear_stop, request_stop, stop_requested

    loaded = common.load(args)
    try:
        path = request_stop(loaded.state_dir)
    except OSError as exc:
        print(f"hostward: cannot write the stop request in {loaded.state_dir}: {exc}", file=sys.stderr)
        return common.EXIT_FAILED
    deadline = time.monotonic() + max(0.0, args.wait)
    while time.monotonic() < deadline:
        if not stop_requested(loaded.state_dir):
            print(f"hostward: the agent took the stop request ({path})")
            return common.EXIT_OK
        time.sleep(0.2)
    clear_stop(loaded.state_dir)
    print(f"hostward: no agent took the stop request within {args.wait:.0f}s; withdrawn", file=sys.stderr)
    return common.EXIT_FAILED
