"""Versioned device configurations in the state directory, with unified diffs.

Layout: `<root>/<device>/000042.cfg` (version 42) and `000042.diff` (from version 41). A new
version is written only when the normalised text differs from the latest one. Files are 0600:
configurations hold password hashes and SNMP communities.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from common.frozen import frozen

MAX_VERSIONS = 200
_VERSION = re.compile(r"^(\d{6})\.cfg$")


@frozen
class Stored:
    """A configuration after it was stored: its version, whether it changed (and the diff), its file,
    how many versions are kept, and when (mtime) the latest one changed."""

    version: int
    changed: bool
    diff: str  # empty when unchanged or first version
    path: Path
    versions: int  # kept on disk
    changed_at: float | None  # mtime of the latest version


def versions(root: Path, device: str) -> list[int]:
    folder = root / device
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _VERSION.match(p.name)))


def latest_text(root: Path, device: str) -> str | None:
    found = versions(root, device)
    return (root / device / f"{found[-1]:06d}.cfg").read_text("utf-8") if found else None


def store(root: Path, device: str, text: str) -> Stored:
    """Store `text` as a new version if it differs from the latest; return what happened."""
    folder = root / device
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    found = versions(root, device)
    previous = (folder / f"{found[-1]:06d}.cfg").read_text("utf-8") if found else None
    if previous == text:
        path = folder / f"{found[-1]:06d}.cfg"
        return Stored(found[-1], False, "", path, len(found), path.stat().st_mtime)
    version = (found[-1] + 1) if found else 1
    path = folder / f"{version:06d}.cfg"
    diff = ""
    if previous is not None:
        diff = "".join(
            difflib.unified_diff(
                previous.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{device}/{found[-1]:06d}.cfg",
                f"{device}/{version:06d}.cfg",
            )
        )
        _write(folder / f"{version:06d}.diff", diff)
    _write(path, text)
    for old in found[: max(0, len(found) + 1 - MAX_VERSIONS)]:
        for suffix in (".cfg", ".diff"):
            (folder / f"{old:06d}{suffix}").unlink(missing_ok=True)
    kept = min(len(found) + 1, MAX_VERSIONS)
    return Stored(version, previous is not None, diff, path, kept, path.stat().st_mtime)


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
