"""Access logs (ROOM-6): the append-only archive in the state directory, and its readers."""

from pathlib import Path

DIR_NAME = "access-log"


def archive_dir(state_dir: Path) -> Path:
    """Where the archive lives (agent/access/archive.py writes it; every backup takes it)."""
    return Path(state_dir) / DIR_NAME
