"""Restores for ops staff: pick a snapshot, preview, refuse to overwrite live data, restore.

restic 0.14 prints no progress while restoring, so progress is measured by watching the bytes
arrive under the target (beyond what it held before), against the total the snapshot listing
announced when one was made; the result's file count is restic's own.

Speed: every restic run opens the repository (its key derivation, its index) before it does
anything, and a full tree listing costs about a tenth of the restore itself (measured: 1.1 s of
~12 s for 10 000 files, 367 MB). So a restore makes one run before restic restore, never more:
`snapshots --json ID` to resolve the snapshot, or (dry run, in place) `ls --json ID`, which
resolves and lists at once. restic restore --verify still reads back every file.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath, PurePosixPath

from backup import parse
from backup.browse import find_snapshot
from backup.errors import BackupError, ResticFailed, RestoreRefused
from backup.model import Node, Snapshot
from backup.restic import Restic
from common.frozen import frozen

ProgressCallback = Callable[[int, int], None]  # (bytes done, bytes total)
_RESTORING = re.compile(rb"restoring <Snapshot ([0-9a-f]{8,64}) of ")
_VERIFYING = b"verifying files in "  # restic's line once every file is written, before it reads them back
_GLOB = str.maketrans({"*": r"\*", "?": r"\?", "[": r"\[", "]": r"\]", "\\": "\\\\"})


@frozen
class RestorePreview:
    """What a restore would bring back: the snapshot, its paths, and how many files and bytes."""

    snapshot: Snapshot
    paths: tuple[str, ...]
    files: int
    bytes: int


@frozen
class RestoreResult:
    """One restore done: where from and to, files and bytes restored, seconds, and how they were counted."""

    repository: str
    snapshot_id: str
    target: str
    files: int
    bytes: int
    duration: float
    counted_by: str = "summary"  # "summary" (restic's JSON) or "verify" (0.14: files verified)
    bytes_from: str = "summary"  # summary | listing (its total) | target (walked) | unknown

    @property
    def throughput(self) -> float:
        """Bytes per second."""
        return self.bytes / self.duration if self.duration > 0 else 0.0


def escape_pattern(path: str) -> str:
    """A literal path as a restic include pattern (restic patterns are globs)."""
    return path.translate(_GLOB)


def resolve_snapshot(restic: Restic, spec: str) -> Snapshot:
    """`latest` (the newest snapshot) or an id or unique id prefix, in one restic run; raises
    ResticFailed (`browse.SnapshotNotFound`) if none or several match."""
    return find_snapshot(restic, spec)


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


@frozen
class Target:
    """A restore target as restic will use it (`lexical`: Go's filepath.Abs/Clean, the string
    restic is given) and where the OS will really write (`physical`: that string with every
    symlink followed)."""

    lexical: str
    physical: str


def restic_path(path: str) -> str:
    """`path` made absolute and cleaned exactly as restic (Go's filepath.Abs + Clean) does:
    lexically, `..` removing the component before it even when that one is a symlink. A relative
    path is taken from $PWD when it names the current directory (Go's os.Getwd), else getcwd."""
    if os.path.isabs(path):
        full = os.path.normpath(path)
    else:
        full = os.path.normpath(os.path.join(_go_getwd(), path))
    if os.name == "posix" and full.startswith("//"):  # Go cleans "//x" to "/x"; Python keeps it
        full = "/" + full.lstrip("/")
    return full


def _go_getwd() -> str:
    pwd = os.environ.get("PWD", "")
    try:
        if os.path.isabs(pwd) and os.path.samefile(pwd, "."):
            return pwd
    except OSError:
        pass
    return os.getcwd()


def resolve_target(target: str) -> Target:
    lexical = restic_path(target)
    return Target(lexical, os.path.realpath(lexical))


def _overlap(a: PurePath, b: PurePath) -> bool:
    return a == b or a in b.parents or b in a.parents


def _forms(path: str) -> set[PurePath]:
    """The lexical and the physical form of a path (they differ through a symlink or `..`)."""
    lexical = restic_path(path)
    return {PurePath(lexical), PurePath(os.path.realpath(lexical))}


def check_target(target: str, restored: Sequence[str], live: Sequence[str], in_place: bool) -> Target:
    """The target as restic will use it; refuses a restore that would write over live data,
    unless `in_place`.

    Both resolutions are judged (restic cleans the path lexically, the OS then follows every
    symlink when writing): the target refused when it equals a live source, lies inside one or
    holds one; each destination (target + snapshot path) refused when it overlaps a source or
    already exists with content, following any symlink already inside the target.
    """
    resolved = resolve_target(target)
    if in_place:
        return resolved
    sources = {form: src for src in live for form in _forms(src)}
    # Also the target as typed, symlinks followed before `..` (what a shell user means by it).
    typed = os.path.realpath(target if os.path.isabs(target) else os.path.join(_go_getwd(), target))
    roots = {PurePath(resolved.lexical), PurePath(resolved.physical), PurePath(typed)}
    for root in roots:
        for form, src in sources.items():
            if _overlap(root, form):
                raise RestoreRefused(
                    "restore",
                    f"target {target} (restic writes to {resolved.lexical}, the disk to "
                    f"{resolved.physical}) overlaps live data {src}; choose an empty --target "
                    "outside the backup sources, or --in-place / 目标与在用数据重叠",
                )
    for path in restored:
        lexical = os.path.normpath(os.path.join(resolved.lexical, path.lstrip("/\\")))
        for dest in {PurePath(lexical), PurePath(os.path.realpath(lexical))}:
            for form, src in sources.items():
                if _overlap(dest, form):
                    raise RestoreRefused(
                        "restore", f"{dest} is live data ({src}); choose an empty --target or --in-place"
                    )
            real = Path(dest)
            if real.is_file() or (real.is_dir() and any(real.iterdir())):
                raise RestoreRefused(
                    "restore", f"{dest} already exists and is not empty; use another --target or --in-place"
                )
    return resolved


def restore(
    restic: Restic,
    snapshot: Snapshot | str,
    target: str,
    *,
    paths: Sequence[str] = (),
    total: int = 0,
    timeout: float = 24 * 3600.0,
    on_progress: ProgressCallback | None = None,
) -> RestoreResult:
    """Restore `paths` (everything if empty) of `snapshot` into `target`, verifying content.

    restic is given the target already made absolute and cleaned (`restic_path`), so it
    resolves nothing itself. What was restored is what restic says (`parse.restore_count`:
    its JSON summary, or 0.14's "finished verifying N files"), never a walk of the target,
    which may hold other files. restic 0.14 gives no byte count: `total` (the size of the
    files the snapshot listing selected) stands for it then; without a listing, the bytes are
    counted under the directories this restore alone wrote: the target when it was empty, else
    each restored path that did not exist or was empty before.

    `snapshot` may be given unresolved (an id, a prefix or `latest`, restic resolves it): the
    restore then opens the repository once in all; the result names the snapshot restic says
    it restored ("restoring <Snapshot 1a2b3c4d of ...>").
    """
    spec = snapshot if isinstance(snapshot, str) else snapshot.id
    if not spec or spec.startswith("-"):
        raise ResticFailed(restic.repo.name, f"snapshot {spec!r} is not an id / 快照编号无效")
    where = restic_path(target)
    created = not os.path.exists(where)
    Path(where).mkdir(parents=True, exist_ok=True)
    shown = list(paths) or ([] if isinstance(snapshot, str) else list(snapshot.paths))
    fresh = _fresh_roots(where, shown) if total == 0 else ()
    counter = _Counter(fresh)
    stop = threading.Event()
    watcher = None
    if on_progress is not None:
        baseline = _tree_size(where)[1]
        watcher = threading.Thread(
            target=_watch, args=(where, baseline, total, on_progress, stop), daemon=True
        )
        watcher.start()
    started = time.monotonic()
    try:
        result = restic.restore(
            spec, where, includes=[escape_pattern(p) for p in paths], timeout=timeout, on_line=counter.on_line
        )
    except BackupError:
        if created and not _has_content(where):  # a wrong id: leave no empty directory behind
            with contextlib.suppress(OSError):
                os.rmdir(where)
        raise
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
    duration = time.monotonic() - started
    count = parse.restore_count(result.stdout)
    if count is None:
        raise parse.ResticOutputInvalid(
            restic.repo.name, "restic restore did not say what it restored (no summary, no verify line)"
        )
    said = _RESTORING.search(result.stdout)
    restored_id = said.group(1).decode() if said else spec
    if paths and count.files == 0:
        raise ResticFailed(restic.repo.name, f"snapshot {restored_id[:8]} holds none of {list(paths)}")
    if count.bytes is not None:
        size, bytes_from = count.bytes, "summary"
    elif total:
        size, bytes_from = total, "listing"
    elif fresh:
        size, bytes_from = counter.size(), "target"
    else:
        size, bytes_from = 0, "unknown"
    if on_progress is not None:
        on_progress(size, max(total, size))
    snapshot_id = restored_id if isinstance(snapshot, str) else snapshot.id
    return RestoreResult(
        restic.repo.name, snapshot_id, where, count.files, size, duration, count.source, bytes_from
    )


class _Counter:
    """The bytes under the restore's fresh roots, counted while restic verifies: its "verifying
    files in" line comes once every file is written, and the read-back takes far longer than a
    walk of the tree, so the count costs the restore no time (counted after restic otherwise)."""

    def __init__(self, roots: Sequence[str]) -> None:
        self.roots = tuple(roots)
        self._thread: threading.Thread | None = None
        self._size = 0

    def on_line(self, line: bytes) -> None:
        if self.roots and self._thread is None and line.startswith(_VERIFYING):
            self._thread = threading.Thread(target=self._count, name="restore-count", daemon=True)
            self._thread.start()

    def _count(self) -> None:
        self._size = sum(_tree_size(r, regular_only=True)[1] for r in self.roots)

    def size(self) -> int:
        if self._thread is None:
            self._count()
        else:
            self._thread.join()
        return self._size


def _fresh_roots(where: str, paths: Sequence[str]) -> tuple[str, ...]:
    """Directories whose whole content will be this restore's: the target if it is empty, else
    each restored path (below the target) that is absent or empty now."""
    if not _has_content(where):
        return (where,)
    roots = [os.path.normpath(os.path.join(where, p.replace(":", "").lstrip("/\\"))) for p in paths]
    roots = [r for r in roots if not _has_content(r)]
    return tuple(r for r in roots if not any(o != r and PurePath(o) in PurePath(r).parents for o in roots))


def _has_content(path: str) -> bool:
    try:
        with os.scandir(path) as it:
            return next(it, None) is not None
    except NotADirectoryError:
        return True
    except OSError:
        return False


def _watch(
    target: str, baseline: int, total: int, on_progress: ProgressCallback, stop: threading.Event
) -> None:
    while not stop.wait(1.0):  # a walk of the target each second: ~2 % of one CPU at 10 000 files
        on_progress(max(0, _tree_size(target)[1] - baseline), total)


def _tree_size(top: str, regular_only: bool = False) -> tuple[int, int]:
    """(files, bytes) under `top`, symlinks not followed: one scandir per directory and one
    lstat per file (os.walk would join and stat each name again)."""
    files = size = 0
    stack = [top]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                            continue
                        if regular_only and not entry.is_file(follow_symlinks=False):
                            continue
                        size += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
                    files += 1
        except OSError:
            continue
    return files, size
