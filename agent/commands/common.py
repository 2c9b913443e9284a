"""Helpers every subcommand shares: the -c option, loading config, opening state."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from agent import faults
from agent.config import LoadedConfig, SchemaError, load_config
from agent.logs import escape_controls
from agent.state import State, StateError

if TYPE_CHECKING:
    import argparse

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # also: invalid config


class ConfigInvalid(Exception):
    """Raised by `load`; the CLI prints the problems and exits 2."""

    def __init__(self, error: SchemaError) -> None:
        super().__init__(str(error))
        self.error = error


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        help="config file (default: $HOSTWARD_CONFIG, /etc/hostward/hostward.yaml, embedded default)",
    )


def load(args: Any, apart: bool = False) -> LoadedConfig:
    """The config named by `-c` (or the usual search); raises ConfigInvalid. `apart`: the file
    is read in a child process (the daemon: agent/config/apart.py)."""
    try:
        if apart:
            from agent.config.apart import load_apart

            loaded = load_apart(getattr(args, "config", None))
        else:
            loaded = load_config(getattr(args, "config", None))
    except SchemaError as exc:
        raise ConfigInvalid(exc) from exc
    faults.record_to(loaded.state_dir)  # this command's write errors reach the daemon's /metrics
    return loaded


def open_state(loaded: LoadedConfig) -> State:
    return State.open(loaded.state_dir, loaded.config.history.job_runs_per_job)


def print_problems(error: SchemaError) -> None:
    for problem in error.problems:  # a key or value may hold control characters: escaped
        print(escape_controls(str(problem)), file=sys.stderr)


def open_state_or_say(loaded: LoadedConfig, what: str) -> State | None:
    """The state for a command that stores what it reads; None, said on stderr, when it cannot
    be opened (a normal user): the command still reads and prints, and stores nothing."""
    try:
        return open_state(loaded)
    except (StateError, OSError) as exc:
        message = f"{what}: not stored, the state cannot be opened / 未保存，无法打开状态库: {exc}"
        print(escape_controls(message), file=sys.stderr)
        return None
