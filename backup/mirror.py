"""A verified mirror of the primary's new files into a local secondary repository.

Why: two independent `restic backup` runs chunk, hash, compress and encrypt every byte twice
(measured 1.99x one backup on 2 CPUs, budget 1.5x). A restic repository is made of immutable
files named by the SHA-256 of their content (packs, indexes, snapshots, keys; only `config`
is not), so the secondary can receive the primary's new files as they are: each one is hashed
while it is copied and refused when the hash is not its name. The secondary stays a complete,
ordinary restic repository (same ids, same password) on other media; restoring from it never
needs the primary.

Order makes the copy consistent at every moment: keys, then packs, then indexes, then
snapshots, each file written to a temporary name, flushed and renamed. A snapshot therefore
appears only after all the data it needs. Nothing is ever deleted here; `sync_deletions`
(run by retention after the primary's prune) removes only files this mirror brought and
the primary no longer holds. The names brought are kept in `<secondary>/hostward-mirror/`.

A secondary whose `config` differs from the primary's is not a mirror (it was initialised on
its own): the plan then backs up into it independently. A missing directory is reported as a
missing repository and never created (an unmounted disk).
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from backup.errors import BackupError, Interrupted, NoSpace, RepositoryMissing, ResticFailed
from common.frozen import frozen

KINDS = ("keys", "data", "index", "snapshots")  # the order that keeps the copy consistent
STATE_DIR = "hostward-mirror"
MANIFEST = "mirrored.txt"
_REMOTE = ("sftp:", "rest:", "s3:", "b2:", "azure:", "gs:", "swift:", "rclone:")
_CHUNK = 1 << 20


class MirrorMismatch(ResticFailed):
    """A file of the primary does not hash to its name: the primary is damaged."""


@frozen
class MirrorResult:
    """What one mirror copied: files, bytes, seconds, and the snapshots it brought."""

    files: int
    bytes: int
    duration: float
    snapshots: tuple[str, ...]  # snapshot ids brought by this mirror


def local_path(url: str) -> Path | None:
    """The directory of a local repository URL, None for a remote one (sftp:, rest:, s3: ...)."""
    if url.startswith("local:"):
        return Path(url[len("local:") :])
    if url.startswith(_REMOTE) or not url.startswith("/"):
        return None
    return Path(url)


def is_mirror_of(primary: str, secondary: str) -> bool:
    """True when both are local repositories with byte-identical `config` files."""
    p, s = local_path(primary), local_path(secondary)
    if p is None or s is None:
        return False
    try:
        return (p / "config").read_bytes() == (s / "config").read_bytes()
    except OSError:
        return False


def create_mirror(primary: str, secondary: str, name: str = "secondary") -> None:
    """Make `secondary` (an empty or absent directory) a mirror of the initialised `primary`."""
    _p, s = _paths(primary, secondary, name, must_exist=False)
    if (s / "config").exists():
        raise ResticFailed(name, f"{s} already holds a repository")
    s.mkdir(parents=True, exist_ok=True)
    mirror(primary, secondary, name, _config=True)


def mirror(
    primary: str,
    secondary: str,
    name: str = "secondary",
    *,
    stop: Callable[[], bool] = lambda: False,
    _config: bool = False,
) -> MirrorResult:
    """Copy the primary's files that the secondary lacks (and never had), verified by hash.
    `stop` is asked before each file: True raises Interrupted (a cancelled job)."""

    def copy(rel: str) -> int:
        if stop():
            raise Interrupted(name, "mirror cancelled")
        size = _copy(p / rel, s / rel, work, verify=True)
        with lock:  # recorded at once: a later failure must not make it look like our own file
            log.write(f"{rel}\n")
            log.flush()
        return size

    started = time.monotonic()
    p, s = _paths(primary, secondary, name, must_exist=not _config)
    work = s / STATE_DIR
    work.mkdir(exist_ok=True)
    if _config:  # `config` is restic's one file not named by its SHA-256; later runs compare it byte for byte
        _copy(p / "config", s / "config", work, verify=False)
    elif (p / "config").read_bytes() != (s / "config").read_bytes():
        raise ResticFailed(name, f"{s} is not a mirror of the primary (its config differs)")
    brought = _manifest(work)
    files = size = 0
    snapshots: list[str] = []
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=2) as pool, open(work / MANIFEST, "a", encoding="ascii") as log:
        for kind in KINDS:
            todo = [rel for rel in _listing(p, kind) if rel not in brought and not (s / rel).exists()]
            sizes = list(pool.map(copy, todo))
            _fsync_dirs({(s / rel).parent for rel in todo})
            files += len(todo)
            size += sum(sizes)
            if kind == "snapshots":
                snapshots = [Path(rel).name for rel in todo]
        os.fsync(log.fileno())
    return MirrorResult(files, size, time.monotonic() - started, tuple(snapshots))


def sync_deletions(primary: str, secondary: str, name: str = "secondary") -> int:
    """Delete from the secondary the files this mirror brought that the primary no longer has
    (after the primary's prune). Files the secondary wrote itself are kept. Returns the count."""
    p, s = _paths(primary, secondary, name, must_exist=True)
    work = s / STATE_DIR
    brought = _manifest(work)
    gone = [rel for rel in brought if not (p / rel).exists()]
    # snapshots first, packs last: the reverse of the mirror's order keeps it consistent
    gone.sort(key=lambda rel: -KINDS.index(rel.split("/", 1)[0]) if rel.split("/", 1)[0] in KINDS else 0)
    for rel in gone:
        with contextlib.suppress(FileNotFoundError):
            (s / rel).unlink()
    kept = sorted(brought - set(gone))
    tmp = work / (MANIFEST + ".tmp")
    tmp.write_text("".join(f"{rel}\n" for rel in kept), encoding="ascii")
    os.replace(tmp, work / MANIFEST)
    return len(gone)


def _paths(primary: str, secondary: str, name: str, *, must_exist: bool) -> tuple[Path, Path]:
    p, s = local_path(primary), local_path(secondary)
    if p is None or s is None:
        raise BackupError(name, "a mirror needs two local repositories")
    if not (p / "config").is_file():
        raise RepositoryMissing("primary", f"{p} holds no repository")
    if must_exist and not (s / "config").is_file():
        raise RepositoryMissing(name, f"{s} holds no repository (disk not mounted?)")
    if not must_exist and not s.parent.is_dir():
        raise RepositoryMissing(name, f"{s.parent} does not exist (disk not mounted?)")
    return p, s


def _manifest(work: Path) -> set[str]:
    try:
        return {line for line in (work / MANIFEST).read_text(encoding="ascii").split() if line}
    except FileNotFoundError:
        return set()


def _listing(root: Path, kind: str) -> Iterator[str]:
    base = root / kind
    if not base.is_dir():
        return
    dirs = sorted(d for d in base.iterdir() if d.is_dir()) if kind == "data" else [base]
    for folder in dirs:
        for entry in os.scandir(folder):
            if entry.is_file() and len(entry.name) == 64:
                yield os.path.relpath(entry.path, root)


def _copy(src: Path, dst: Path, work: Path, *, verify: bool) -> int:
    import hashlib  # OpenSSL's SHA-256 for the pack files, loaded only when mirroring

    digest = hashlib.sha256()
    tmp = work / f"{dst.name}.{os.getpid()}.{threading.get_ident()}.tmp"  # unique per writer
    size = 0
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while chunk := fin.read(_CHUNK):
                digest.update(chunk)
                fout.write(chunk)
                size += len(chunk)
            fout.flush()
            os.fsync(fout.fileno())
        if verify and digest.hexdigest() != src.name:
            raise MirrorMismatch("primary", f"{src} does not match its SHA-256 name: damaged, not mirrored")
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dst)
    except OSError as exc:
        cls = NoSpace if exc.errno == errno.ENOSPC else ResticFailed
        raise cls("secondary", f"mirror of {src.name} failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return size


def _fsync_dirs(dirs: set[Path]) -> None:
    for folder in dirs:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
