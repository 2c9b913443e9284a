"""The result of a full disaster-recovery drill (backup/drill_full.py), as stored.

Its own module, free of restic and the plan, so the exporter and the status page can read the
stored record without loading the backup machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from common.frozen import frozen

RECORD_VERSION = 1


@frozen
class FullDrillResult:
    """One full drill of one repository (the payload of the state record kind "drill_full")."""

    repository: str
    ok: bool
    started: float
    snapshot_id: str = ""
    snapshot_time: float = 0.0
    duration: float = 0.0  # seconds: `restic restore --verify` of the whole snapshot
    files: int = 0
    bytes: int = 0
    target: str = ""
    error: str = ""
    error_kind: str = ""

    @property
    def throughput(self) -> float:
        """Bytes restored (and verified) per second; 0 when nothing was measured."""
        return self.bytes / self.duration if self.ok and self.duration > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"version": RECORD_VERSION, **asdict(self), "throughput": self.throughput}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FullDrillResult:
        """The stored form back; raises ValueError on a payload this version cannot read."""
        if data.get("version") != RECORD_VERSION:
            raise ValueError(f"full drill record version {data.get('version')!r} is not {RECORD_VERSION}")
        try:
            return cls(
                repository=str(data["repository"]),
                ok=bool(data["ok"]),
                started=float(data["started"]),
                snapshot_id=str(data.get("snapshot_id", "")),
                snapshot_time=float(data.get("snapshot_time") or 0.0),
                duration=float(data.get("duration") or 0.0),
                files=int(data.get("files") or 0),
                bytes=int(data.get("bytes") or 0),
                target=str(data.get("target", "")),
                error=str(data.get("error", "")),
                error_kind=str(data.get("error_kind", "")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"full drill record unreadable: {exc}") from exc
