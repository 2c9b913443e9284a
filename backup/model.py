"""Typed records parsed from restic's JSON, in base units (bytes, seconds, epoch seconds)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

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


@dataclass(frozen=True)
class Snapshot:
    id: str
    short_id: str
    time: float
    paths: tuple[str, ...]
    hostname: str
    tags: tuple[str, ...] = ()
    original: str = ""  # set on snapshots made by `restic copy`: the id in the source repository

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Snapshot:
        return cls(
            id=str(item["id"]),
            short_id=str(item.get("short_id") or str(item["id"])[:8]),
            time=parse_time(str(item["time"])),
            paths=tuple(item.get("paths") or ()),
            hostname=str(item.get("hostname", "")),
            tags=tuple(item.get("tags") or ()),
            original=str(item.get("original") or ""),
        )

    @property
    def run_id(self) -> str:
        """The hostward run that made this snapshot ("" for snapshots made by hand)."""
        for tag in self.tags:
            if tag.startswith(RUN_TAG):
                return tag[len(RUN_TAG) :]
        return ""


@dataclass(frozen=True)
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

    @classmethod
    def from_json(
        cls, repository: str, item: Mapping[str, Any], status: Status, unreadable: tuple[str, ...]
    ) -> BackupSummary:
        return cls(
            repository=repository,
            status=status,
            snapshot_id=str(item["snapshot_id"]),
            files_new=int(item.get("files_new", 0)),
            files_changed=int(item.get("files_changed", 0)),
            files_unmodified=int(item.get("files_unmodified", 0)),
            bytes_added=int(item.get("data_added", 0)),
            files_processed=int(item.get("total_files_processed", 0)),
            bytes_processed=int(item.get("total_bytes_processed", 0)),
            duration=float(item.get("total_duration", 0.0)),
            unreadable=unreadable[:100],
        )


@dataclass(frozen=True)
class CheckResult:
    repository: str
    ok: bool
    subset: str
    duration: float
    problems: tuple[str, ...] = ()
    error_kind: str = ""  # set when the check could not run (repository_missing, locked, ...)
    size_bytes: int | None = None  # what the repository stores, measured after the check


@dataclass(frozen=True)
class LockInfo:
    """A lock file's content (`restic cat lock ID`)."""

    id: str
    time: float
    exclusive: bool
    hostname: str
    pid: int

    @classmethod
    def from_json(cls, lock_id: str, item: Mapping[str, Any]) -> LockInfo:
        return cls(
            id=lock_id,
            time=parse_time(str(item["time"])),
            exclusive=bool(item.get("exclusive", False)),
            hostname=str(item.get("hostname", "")),
            pid=int(item.get("pid", 0)),
        )


@dataclass(frozen=True)
class Node:
    """One entry of `restic ls --json`."""

    path: str
    type: str  # file, dir, symlink, ...
    size: int
    mtime: float

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Node:
        mtime = item.get("mtime")
        return cls(
            path=str(item["path"]),
            type=str(item.get("type", "")),
            size=int(item.get("size") or 0),
            mtime=parse_time(str(mtime)) if mtime else 0.0,
        )
