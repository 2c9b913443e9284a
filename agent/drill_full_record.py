"""Reading the state record kind "drill_full" (written by agent.actions.backup_drill_full):
the last full disaster-recovery drill per repository and the projected full restore time.

Projection = the size of the snapshot a restore would bring back today / the throughput the
last passing full drill measured. The size is the latest backup's `bytes_processed` (restic's
total of the files in the snapshot it made, stored nightly in the "backup" record), not
`restic stats --mode raw-data`: a restore writes the files of one snapshot, while raw-data
counts the repository's deduplicated, compressed blobs of every snapshot kept (years, under
BAK-3), in other units than the drill measured. Without a stored backup the drilled snapshot's
own size stands in. Light on purpose: the exporter and the status page import it.
"""

from __future__ import annotations

import logging

from agent.records.backup import BackupRecord
from agent.records.base import StateError
from agent.records.drill_full import FullDrillRecord
from agent.state import Snapshot
from backup.drill_full_result import FullDrillResult
from common.frozen import frozen

log = logging.getLogger(__name__)
KIND = FullDrillRecord.KIND


@frozen
class FullDrillView:
    """One repository's full drills, with the size a full restore would bring back today (bytes) and
    where that size came from."""

    last: FullDrillResult  # the latest full drill, passed or not
    last_ok: FullDrillResult | None  # the latest one that passed
    size_now: int  # bytes a full restore would bring back today
    size_source: str  # "last_backup" or "drilled_snapshot"

    @property
    def projected_seconds(self) -> float | None:
        """Time a full restore would take today at the measured throughput (None: unmeasured)."""
        ok = self.last_ok
        if ok is None or ok.throughput <= 0:
            return None
        return self.size_now / ok.throughput


def full_drills(snapshot: Snapshot) -> dict[str, FullDrillView]:
    """Per repository name; an unreadable record is logged and shows nothing (never passed)."""
    try:
        stored, backup = snapshot.get(FullDrillRecord), snapshot.get(BackupRecord)
    except StateError as exc:  # shown as hostward_state_record_valid{kind} 0
        log.warning("%s", exc)
        return {}
    if stored is None:
        return {}
    sizes = backup.record.repositories if backup is not None else {}
    out: dict[str, FullDrillView] = {}
    for name, drills in stored.record.repositories.items():
        processed = sizes[name].bytes_processed if name in sizes else None
        if processed is not None and processed >= 0:
            size, source = processed, "last_backup"
        else:
            size, source = (drills.last_ok or drills.last).bytes, "drilled_snapshot"
        out[name] = FullDrillView(drills.last, drills.last_ok, size, source)
    return out
