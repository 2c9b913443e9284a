"""Restores for ops staff: pick a snapshot, preview, refuse to overwrite live data, restore.

restic 0.14 prints no progress while restoring, so progress is measured by watching the bytes
arrive under the target against the total the snapshot listing announced.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from backup.errors import ResticFailed, RestoreRefused
from backup.model import Node, Snapshot
from backup.restic import Restic

ProgressCallback = Callable[[int, int], None]  # (bytes done, bytes total)
_GLOB = str.maketrans({"*": r"\*", "?": r"\?", "[": r"\[", "]": r"\]", "\\": "\\\\"})


@dataclass(frozen=True)
class RestorePreview:
    snapshot: Snapshot
    paths: tuple[str, ...]
    files: int
    bytes: int


@dataclass(frozen=True)
class RestoreResult:
    repository: str
    snapshot_id: str
    target: str
    files: int
    bytes: int
    duration: float

    @property
    def throughput(self) -> float:
        """Bytes per second."""
        return self.bytes / self.duration if self.duration > 0 else 0.0


def escape_pattern(path: str) -> str:
    """A literal path as a restic include pattern (restic patterns are globs)."""
    return path.translate(_GLOB)


def resolve_snapshot(restic: Restic, spec: str) -> Snapshot:
    """`latest` (the newest snapshot) or an id or id prefix; raises ResticFailed if none match."""
    snapshots = restic.snapshots()
    if not snapshots:
        raise ResticFailed(restic.repo.name, "the repository holds no snapshot")
    if spec == "latest":
        return snapshots[-1]
    found = [s for s in snapshots if s.id.startswith(spec)]
    if len(found) != 1:
        what = "no snapshot" if not found else f"{len(found)} snapshots"
        raise ResticFailed(restic.repo.name, f"{what} match {spec!r}")
    return found[0]


def preview(
    restic: Restic, snapshot: Snapshot, paths: Sequence[str] = ()
) -> tuple[RestorePreview, tuple[Node, ...]]:
    """What a restore of `paths` (all if empty) would write: counts, and the file nodes."""
    nodes = restic.ls(snapshot.id)
    wanted = [PurePosixPath(p) for p in paths]
    files = tuple(
        n
        for n in nodes
        if n.type == "file" and (not wanted or any(_below(PurePosixPath(n.path), w) for w in wanted))
    )
    if paths and not any(_below(PurePosixPath(n.path), w) for n in nodes for w in wanted):
        raise ResticFailed(restic.repo.name, f"snapshot {snapshot.short_id} holds none of {list(paths)}")
    return RestorePreview(snapshot, tuple(paths), len(files), sum(n.size for n in files)), files


def _below(path: PurePosixPath, top: PurePosixPath) -> bool:
    return path == top or top in path.parents


def check_target(target: str, restored: Sequence[str], live: Sequence[str], in_place: bool) -> None:
    """Refuse a restore that would write over live data, unless `in_place`.

    `restored` are the snapshot paths to restore (absolute); restic writes each to
    target + path. Live data is: the protected `live` sources, or any existing non-empty
    directory or file at a destination.
    """
    if in_place:
        return
    root = Path(target).resolve()
    if root == Path("/"):
        raise RestoreRefused("restore", "target / overwrites the live system; give --in-place to mean it")
    for path in restored:
        dest = (root / path.lstrip("/")).resolve()
        for src in live:
            srcp = Path(src).resolve()
            if dest == srcp or srcp in dest.parents or dest in srcp.parents:
                raise RestoreRefused(
                    "restore", f"{dest} is live data ({src}); choose an empty --target or --in-place"
                )
        if dest.is_file() or (dest.is_dir() and any(dest.iterdir())):
            raise RestoreRefused(
                "restore", f"{dest} already exists and is not empty; use another --target or --in-place"
            )


def restore(
    restic: Restic,
    snapshot: Snapshot,
    target: str,
    *,
    paths: Sequence[str] = (),
    total: int = 0,
    timeout: float = 24 * 3600.0,
    on_progress: ProgressCallback | None = None,
) -> RestoreResult:
    """Restore `paths` (everything if empty) of `snapshot` into `target`, verifying content."""
    Path(target).mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    watcher = None
    if on_progress is not None:
        watcher = threading.Thread(target=_watch, args=(target, total, on_progress, stop), daemon=True)
        watcher.start()
    started = time.monotonic()
    try:
        restic.restore(snapshot.id, target, includes=[escape_pattern(p) for p in paths], timeout=timeout)
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
    duration = time.monotonic() - started
    files, size = _tree_size(target)
    if on_progress is not None:
        on_progress(size, max(total, size))
    return RestoreResult(restic.repo.name, snapshot.id, target, files, size, duration)


def _watch(target: str, total: int, on_progress: ProgressCallback, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        on_progress(_tree_size(target)[1], total)


def _tree_size(top: str) -> tuple[int, int]:
    files = size = 0
    for dirpath, _dirs, names in os.walk(top):
        for name in names:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            files += 1
            size += st.st_size
    return files, size
