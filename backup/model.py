"""Typed records parsed from restic's JSON, in base units (bytes, seconds, epoch seconds)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from common.frozen import frozen

RUN_TAG = "hostward-run:"
Status = Literal["ok", "partial", "failed"]
_FRACTION = re.compile(r"\.(\d+)")


def parse_time(text: str) -> float:
    """restic's RFC 3339 time (nanoseconds, `Z` or an offset) -> epoch seconds.

    >>> parse_time("2026-11-23T09:25:32.620904808Z")
    1795425932.620904
    """
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text.strip(), count=1)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@frozen
class Snapshot:
    """One restic snapshot: ids, time (Unix time), paths, host name and tags."""

    id: str
    short_id: str
    time: float
    paths: tuple[str, ...]
    hostname: str
    tags: tuple[str, ...] = ()
    original: str = ""  # set on snapshots made by `restic copy`: the id in the source repository

    @property
    def run_id(self) -> str:
        """The hostward run that made this snapshot ("" for snapshots made by hand)."""
        for tag in self.tags:
            if tag.startswith(RUN_TAG):
                return tag[len(RUN_TAG) :]
        return ""


@frozen
class BackupSummary:
    """restic backup's summary line for one repository."""

    repository: str
    status: Status
    snapshot_id: str
    files_new: int
    files_changed: int
    files_unmodified: int
    bytes_added: int
    files_processed: int
    bytes_processed: int
    duration: float
    unreadable: tuple[str, ...] = ()


@frozen
class CheckResult:
    """One `restic check` of a repository: passed or not, the data subset read, how long it took, the
    problems found, and why it could not run (`error_kind`)."""

    repository: str
    ok: bool
    subset: str
    duration: float
    problems: tuple[str, ...] = ()
    error_kind: str = ""  # set when the check could not run (repository_missing, locked, ...)
    size_bytes: int | None = None  # what the repository stores, measured after the check


@frozen
class LockInfo:
    """A lock file's content (`restic cat lock ID`)."""

    id: str
    time: float
    exclusive: bool
    hostname: str
    pid: int


@frozen
class Node:
    """One entry of `restic ls --json`."""

    path: str
    type: str  # file, dir, symlink, ...
    size: int
    mtime: float
