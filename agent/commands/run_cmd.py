"""`hostward run [-c FILE] [--once]`: the agent, or every due job once."""

from __future__ import annotations

import argparse

from agent.commands import common


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the agent: scheduler, /metrics and status page / 运行代理",
        description=(
            "Run the agent until SIGTERM or SIGINT; SIGHUP reloads the config (an invalid one is "
            "logged and the running config kept). Exit 2 if the config is invalid or the exporter "
            "cannot start."
        ),
    )
    common.add_config_option(p)
    p.add_argument(
        "--once",
        action="store_true",
        help="run every due job once, without the exporter; exit 0 if all succeeded, else 1",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loaded = common.load(args, apart=True)  # the daemon holds no YAML parser
    # Imported here so that other commands never load the scheduler and every job's module.
    from agent import daemon, jobs

    if args.once:
        return daemon.run_once(loaded, jobs.JOBS)
    # `jobs.JOBS` is read at (re)load time, so a test can replace the registry before `main`.
    return daemon.serve(loaded, args.config, lambda: jobs.JOBS)
