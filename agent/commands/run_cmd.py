"""`hostward run [-c FILE] [--once]`: the agent, or every due job once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from agent.commands import common
from common.frozen import frozen

if TYPE_CHECKING:
    import argparse


class RunOptions(Protocol):
    """What `run` reads of its arguments: argparse's Namespace or `PlainArgs`."""

    config: str | None
    once: bool


@frozen
class PlainArgs:
    """`run`'s options as read by `plain_args`."""

    config: str | None = None
    once: bool = False


def plain_args(rest: Sequence[str]) -> PlainArgs | None:
    """The arguments after `run`, read without argparse when they are one of the forms a service
    uses: `-c FILE`, `-cFILE`, `--config FILE`, `--config=FILE` and `--once`, each at most once,
    in any order. None for anything else (`-h`, an abbreviation, a mistake, an option twice):
    argparse then reads them and answers as for every command."""
    config: str | None = None
    once = False
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--once" and not once:
            once = True
        elif config is not None:
            return None
        elif arg in ("-c", "--config") and i + 1 < len(rest) and not rest[i + 1].startswith("-"):
            i += 1
            config = rest[i]
        elif arg.startswith("--config="):
            config = arg.removeprefix("--config=")
        elif arg.startswith("-c") and not arg.startswith("--") and len(arg) > 2:
            config = arg[2:]
        else:
            return None
        i += 1
    return PlainArgs(config, once)


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


def run(args: RunOptions) -> int:
    from collectors.system import heap

    heap.one_arena()  # first: reading the config starts threads (the child's pipes)
    loaded = common.load(args, apart=True)  # the daemon holds no YAML parser
    # Imported here so that other commands never load the scheduler and every job's module.
    from agent import daemon, jobs

    if args.once:
        return daemon.run_once(loaded, jobs.JOBS)
    # `jobs.JOBS` is read at (re)load time, so a test can replace the registry before `main`.
    return daemon.serve(loaded, args.config, lambda: jobs.JOBS)
