"""What the backup operations hand back: drill, verify, prune and offline results.

Plain frozen data, apart from the operations that make them (backup/drill.py, verify.py,
retention.py, offline.py): the daemon receives them from its workers inside state updates
(agent/records/backup_updates.py) and must not load restic's plumbing, or hashlib, to read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, field

from backup.model import CheckResult
from common.frozen import frozen


@frozen
class DrillFile:
    """One file of a drill's sample: its path, size, SHA-256, and how it compares with the live file."""

    path: str
    size: int
    sha256: str
    verdict: (
        str  # "same_as_live", "changed_since", "live_missing", "size_mismatch", "live_differs", "missing"
    )


@frozen
class DrillResult:
    """One restore drill from a repository (BAK-5): the snapshot, when and how fast the sample was
    restored, and each file's verdict; `error`/`error_kind` when it failed."""

    repository: str
    ok: bool
    snapshot_id: str = ""
    started: float = 0.0
    duration: float = 0.0  # time to restore the sample, seconds
    files: int = 0
    bytes: int = 0
    error: str = ""
    error_kind: str = ""
    checked: tuple[DrillFile, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["checked"] = [asdict(f) for f in self.checked[:200]]
        return data


@frozen
class VerifyResult:
    """A verification: each repository's check, and the data slice each one read."""

    checks: tuple[CheckResult, ...]
    parts: Mapping[str, int]  # the slice read per repository (store it; pass it back next time)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


@frozen
class PruneResult:
    """One forget + prune of a repository: ok, skipped or failed, the snapshots it forgot, seconds."""

    repository: str
    status: str  # "ok", "skipped", "failed"
    removed: int = 0
    duration: float = 0.0
    error: str = ""
    error_kind: str = ""


@frozen
class OfflineResult:
    """One offline copy to removable media: the media, the source repository, the newest snapshot it
    holds, how many were copied, and whether the media's check passed."""

    media_id: str
    path: str
    source: str
    snapshot_id: str  # the newest source snapshot on the media
    time: float
    duration: float
    check_ok: bool
    snapshots: int = 0  # source snapshots on the media
    copied: int = 0  # of which this run copied
    subset: str = "100%"
