"""Replace one of hostward's own files (state directory) whole or not at all, on any platform.

Files of an audited root go through `collectors.system.linux.changes`, which resolves them
inside the root; the agent's own files (undo log, heads) live at a path of its own config and
need no confinement, only atomicity: temp file, fsync, rename, fsync of the directory.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, content: bytes, mode: int = 0o600) -> None:
    """Write `content` to `path` so that after a crash it holds the old or the new bytes.
    Raises OSError."""
    fd, tmp = tempfile.mkstemp(prefix=".hostward-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_dir(path.parent)


def _sync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX; Windows cannot open a directory)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
