"""Find, load and validate the config; resolve the state directory.

Order: `-c FILE`, else `$HOSTWARD_CONFIG`, else /etc/hostward/hostward.yaml (Windows:
%ProgramData%\\hostward\\hostward.yaml) if it exists, else the embedded default (good enough for a
laptop as a normal user and a server as root). Windows state: %ProgramData%\\hostward.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from agent.config.schema import Config
from common.frozen import frozen
from common.schema import SchemaError


def _program_data() -> Path:
    return Path(os.environ.get("PROGRAMDATA") or r"C:\ProgramData")


if sys.platform == "win32":  # pragma: no cover - Windows
    SYSTEM_CONFIG = _program_data() / "hostward" / "hostward.yaml"
else:
    SYSTEM_CONFIG = Path("/etc/hostward/hostward.yaml")
HEADER = """\
hostward configuration (version 1). Every key is shown with its default.
Unknown keys are errors. Secrets never go here: name files (mode 0600) or environment variables.
Check a file with: hostward config validate -c FILE"""

__all__ = ["Config", "LoadedConfig", "SchemaError", "default_text", "load_config", "resolve_path"]


@frozen
class LoadedConfig:
    """A validated config, where it came from, and the state directory it resolves to."""

    config: Config
    source: str  # the file it came from, or "<embedded default>"
    state_dir: Path


def default_text() -> str:
    from common.schema import render_default

    return render_default(Config, HEADER)


def resolve_path(explicit: str | None) -> Path | None:
    """The config file to read, or None for the embedded default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("HOSTWARD_CONFIG")
    if env:
        return Path(env)
    return SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else None


def load_config(explicit: str | None = None) -> LoadedConfig:
    """Load and validate; raises SchemaError listing every problem (file:line: path: message).
    The daemon reads its file in a child process instead: agent/config/apart.py."""
    path = resolve_path(explicit)
    if path is None:
        config = Config()
        source = "<embedded default>"
    else:
        from common.schema import load_file

        config = load_file(Config, path)
        source = str(path)
    return LoadedConfig(config, source, state_dir_for(config))


def state_dir_for(config: Config) -> Path:
    if config.state_dir:
        return Path(config.state_dir)
    if sys.platform == "win32":  # pragma: no cover - Windows
        return _program_data() / "hostward"
    if os.geteuid() == 0:
        return Path("/var/lib/hostward")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "hostward"
