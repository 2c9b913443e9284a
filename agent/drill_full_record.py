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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent.state import Snapshot
from backup.drill_full_result import FullDrillResult

log = logging.getLogger(__name__)
KIND = "drill_full"


@dataclass(frozen=True)
class FullDrillView:
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
    """Per repository name; an unreadable entry is logged and left out (never shown as passed)."""
    record = snapshot.records.get(KIND)
    repos = record.payload.get("repositories") if record is not None else None
    if not isinstance(repos, Mapping):
        return {}
    backup = snapshot.records.get("backup")
    sizes = backup.payload.get("repositories") if backup is not None else None
    out: dict[str, FullDrillView] = {}
    for name, entry in repos.items():
        try:
            last = FullDrillResult.from_json(entry)
            raw_ok = entry.get("last_ok")
            last_ok = FullDrillResult.from_json(raw_ok) if isinstance(raw_ok, Mapping) else None
        except (ValueError, AttributeError) as exc:
            log.warning("full drill record of %s unreadable: %s", name, exc)
            continue
        size, source = _size_now(sizes, name)
        if size is None:
            size, source = (last_ok or last).bytes, "drilled_snapshot"
        out[str(name)] = FullDrillView(last, last_ok, size, source)
    return out


def _size_now(sizes: Any, name: str) -> tuple[int | None, str]:
    entry = sizes.get(name) if isinstance(sizes, Mapping) else None
    value = entry.get("bytes_processed") if isinstance(entry, Mapping) else None
    if isinstance(value, int | float) and value >= 0:
        return int(value), "last_backup"
    return None, ""
