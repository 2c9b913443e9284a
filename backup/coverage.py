"""Coverage: does every repository hold a snapshot of every hostward run (BAK-2)?

Snapshots are paired by their `hostward-run:<id>` tag (and, for snapshots made by `restic
copy`, by the `original` id). A run present in one repository and missing in another is a gap.
Only runs inside `window` seconds of the newest run are judged, so that a repository added
later, or retention, does not report old history forever; a run stamped in the future (the
clock ran ahead) is judged but never taken as the newest.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

from backup.model import Snapshot
from collectors.clock import is_future
from common.frozen import frozen

DEFAULT_WINDOW = 35 * 86400.0


@frozen
class RunRow:
    """One hostward run and the snapshot id it left in each repository ("" where missing)."""

    run_id: str
    time: float
    snapshot_ids: Mapping[str, str]


@frozen
class Coverage:
    """The recent hostward runs and, by repository, the run ids it holds no snapshot of (BAK-2)."""

    rows: tuple[RunRow, ...] = ()
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # repository -> run ids

    @property
    def gap(self) -> int:
        """How many (run, repository) pairs are missing."""
        return sum(len(v) for v in self.missing.values())

    def gap_of(self, repository: str) -> int:
        return len(self.missing.get(repository, ()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "gap": self.gap,
            "missing": {k: list(v) for k, v in self.missing.items()},
            "runs": len(self.rows),
        }


def coverage(
    snapshots: Mapping[str, Sequence[Snapshot]], window: float = DEFAULT_WINDOW, now: float | None = None
) -> Coverage:
    """Pair the runs of every repository in `snapshots` ({name: snapshots})."""
    by_repo: dict[str, dict[str, Snapshot]] = {}
    for name, snaps in snapshots.items():
        runs: dict[str, Snapshot] = {}
        for snap in snaps:
            key = snap.run_id or (f"original:{snap.original}" if snap.original else "")
            if key:
                runs.setdefault(key, snap)
        by_repo[name] = runs
    all_runs: dict[str, float] = {}
    for runs in by_repo.values():
        for run_id, snap in runs.items():
            all_runs[run_id] = min(all_runs.get(run_id, snap.time), snap.time)
    if not all_runs:
        return Coverage()
    if now is None:  # the newest run not stamped in the future: a snapshot made while the clock
        wall = time.time()  # ran ahead (2038) would push every real run out of the window
        current = [t for t in all_runs.values() if not is_future(t, wall)]
        now = max(current) if current else wall
    newest = now
    rows = []
    missing: dict[str, list[str]] = {name: [] for name in by_repo}
    for run_id, when in sorted(all_runs.items(), key=lambda kv: kv[1]):
        paired = {name: runs[run_id].id if run_id in runs else "" for name, runs in by_repo.items()}
        rows.append(RunRow(run_id, when, paired))
        if newest - when <= window:
            for name, snap_id in paired.items():
                if not snap_id:
                    missing[name].append(run_id)
    return Coverage(tuple(rows), {k: tuple(v) for k, v in missing.items() if v})


def with_missing(cover: Coverage, runs: Mapping[str, str]) -> Coverage:
    """`cover` plus, for each repository in `runs`, that run id as missing."""
    if not runs:
        return cover
    missing = {k: tuple(v) for k, v in cover.missing.items()}
    for repo, run_id in runs.items():
        missing[repo] = (*missing.get(repo, ()), run_id)
    return Coverage(cover.rows, missing)


def latest_time(snaps: Sequence[Snapshot]) -> float | None:
    return max((s.time for s in snaps), default=None)


def age(snaps: Sequence[Snapshot], now: float | None = None) -> float | None:
    newest = latest_time(snaps)
    return None if newest is None else (now or time.time()) - newest
