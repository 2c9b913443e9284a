"""Faults the agent survived but must not hide: counted per process, shown on /metrics.

A journal line or a state write that failed (a full disk, an I/O error) cannot be stored where
it failed, so it is counted here, in memory: `note("journal_write", message)`. The exporter
renders every kind in `KINDS` (0 until the first fault) and the time of the last one.

A CLI command (`hostward backup prune`, `enforce`, ...) is a process of its own: it also adds
its faults to `faults-cli.json` in the state directory (`record_to`), and the daemon adds that
file's totals to its own (`include`), so that /metrics shows the faults of every process. The
file is read-modify-written under `faults-cli.lock`, replaced atomically, and padded to whole
pages so that on a full disk (where a new file cannot be written) it is overwritten in place
instead. Best effort: when even that fails, the fault still counts in its own process.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from collectors.system import filelock
from common.frozen import frozen

KINDS = ("journal_write", "state_write")
CLI_FILE = "faults-cli.json"
_PAGE = 4096
_BINARY = getattr(os, "O_BINARY", 0)
log = logging.getLogger(__name__)


@frozen
class Fault:
    """How many faults of a kind, when the last happened (Unix time) and what it said."""

    count: int
    last: float
    message: str


_lock = threading.Lock()
_faults: dict[str, Fault] = {}
_version = 0
_record_to: Path | None = None  # this process's file (a CLI command)
_included: dict[Path, tuple[tuple[int, int, int] | None, dict[str, Fault]]] = {}  # the daemon's view


def note(kind: str, message: str, now: float | None = None) -> Fault:
    """Count one fault of `kind` (one of KINDS); also in this process's file if it has one."""
    global _version
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}")
    with _lock:
        previous = _faults.get(kind)
        fault = Fault((previous.count if previous else 0) + 1, time.time() if now is None else now, message)
        _faults[kind] = fault
        _version += 1
        target = _record_to
    if target is not None:
        _persist(target, kind, fault)
    return fault


def snapshot() -> tuple[int, dict[str, Fault]]:
    """(version, faults by kind): this process's plus those recorded by the included files; the
    version changes with every fault (the render cache key)."""
    global _version
    with _lock:
        merged = dict(_faults)
        for path, (seen, recorded) in list(_included.items()):
            now_seen = _signature(path)
            if now_seen != seen:
                recorded = _read(path)
                _included[path] = (now_seen, recorded)
                _version += 1
            for kind, other in recorded.items():
                mine = merged.get(kind)
                merged[kind] = other if mine is None else Fault(
                    mine.count + other.count, max(mine.last, other.last),
                    mine.message if mine.last >= other.last else other.message)  # fmt: skip
        return _version, merged


def record_to(state_dir: Path | None) -> None:
    """A CLI command: add every fault of this process to `state_dir/faults-cli.json` too (and
    include no file: a process records, or includes, never both, so nothing counts twice)."""
    global _record_to, _version
    with _lock:
        _record_to = None if state_dir is None else Path(state_dir) / CLI_FILE
        if _included:
            _included.clear()
            _version += 1


def include(state_dir: Path | None) -> None:
    """The daemon: add the faults CLI commands recorded in `state_dir` to this process's (and
    record none of its own there)."""
    global _record_to, _version
    with _lock:
        _record_to = None
        _included.clear()
        if state_dir is not None:
            _included[Path(state_dir) / CLI_FILE] = (None, {})
        _version += 1


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file does: a replace makes a new inode (its size is always whole
    pages, and two writes may fall in one tick of the file system's clock)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _read(path: Path) -> dict[str, Fault]:
    try:
        item = json.loads(path.read_bytes() or b"{}")
        return {
            kind: Fault(int(v["count"]), float(v["last"]), str(v["message"]))
            for kind, v in item.items() if kind in KINDS
        }  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # missing, or torn by a crash during an in-place overwrite: nothing recorded


def _persist(path: Path, kind: str, fault: Fault) -> None:
    try:
        with _locked(path.with_name(path.name + ".lock")):
            current = _read(path)
            previous = current.get(kind)
            current[kind] = Fault((previous.count if previous else 0) + 1, fault.last, fault.message[:500])
            _write(path, current)
    except OSError as exc:  # counted in this process only; logging it could fail the same way
        with contextlib.suppress(Exception):
            log.debug("cannot record the fault in %s: %s", path, exc)


def _write(path: Path, found: dict[str, Fault]) -> None:
    item = {k: {"count": f.count, "last": f.last, "message": f.message} for k, f in found.items()}
    body = json.dumps(item, ensure_ascii=False).encode("utf-8")
    data = body + b" " * (-len(body) % _PAGE)  # whole pages: the in-place overwrite below fits
    tmp = path.with_name(path.name + ".tmp")
    try:
        _write_file(tmp, data, os.O_TRUNC)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if exc.errno != errno.ENOSPC or _signature(path) is None or path.stat().st_size < len(body):
            raise
        size = path.stat().st_size  # a full disk: overwrite the pages the file already has
        _write_file(path, body + b" " * (size - len(body)), 0)


def _write_file(path: Path, data: bytes, flags: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags | _BINARY, 0o600)
    try:
        if os.write(fd, data) != len(data):
            raise OSError(errno.ENOSPC, "short write")
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        filelock.lock(fd)
        yield
    finally:
        os.close(fd)  # closing releases the lock
