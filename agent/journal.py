"""The journal (ROOM-4): an append-only, hash-chained log of checks, changes, enforcement,
backups and restores, in `journal.jsonl` in the state directory.

Each line is one JSON entry: `seq` (1, 2, ...), `ts` (UTC, ISO 8601), `kind` (e.g.
"enforce.apply", "backup.restore"), `actor` (the user running the process), `data`, `prev`
(the hash of the entry before, 64 zeros for the first) and `hash`, the SHA-256 of the
canonical JSON of all the other fields. Edited, deleted, reordered or cut entries all make
`verify()` fail (agent/journal_verify.py).

The chain's head (seq and hash of the last entry) is kept apart in `journal.head`, replaced
atomically after each entry, and copied into the state database (agent/journal_mirror.py, best
effort). The next entry continues from the highest of the heads and the file's last entry: a
journal deleted or cut short (even with `journal.head` deleted too) is continued from a head,
so the gap stays visible to `verify()` instead of a new chain starting over it.

Writes are all or nothing: a line is written whole with one write and fsynced; a short or
failed write is cut back to the last good offset and raises JournalError (counted on /metrics
as `hostward_journal_write_errors_total`). A torn tail left by a crash or a cut (bytes after
the last newline) is set aside to `journal.torn-<time>-<sha>.bin` before the next entry and
journaled as `journal.torn_tail_quarantined` with its size and hash.

The chain proves the journal was not changed *by accident or by someone who did not recompute
it*; copy it off the host (backups, central log) to protect it against root on the host.

The daemon and CLI commands append concurrently: every append holds an exclusive lock on
`journal.lock`; `verify()` only reads (a shared lock when the lock file can be opened).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent import faults
from agent.journal_mirror import NAME as COPY_NAME
from agent.journal_mirror import CopyUnreadable, HeadCopy, read_only
from agent.journal_verify import (
    ENTRIES_MISSING,
    GENESIS,
    HEAD_REBUILT,
    QUARANTINED,
    VerifyResult,
    check_chain,
    entry_hash,
)
from collectors.system import filelock
from common.digest import sha256
from common.errors import HostwardError
from common.frozen import frozen

__all__ = ["GENESIS", "Entry", "Journal", "JournalError", "VerifyResult", "entry_hash"]

log = logging.getLogger(__name__)
JOURNAL_FILE = "journal.jsonl"
HEAD_FILE = "journal.head"
LOCK_FILE = "journal.lock"
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


class JournalError(HostwardError):
    """The journal cannot be read or written."""


@frozen
class Entry:
    """One journal line: its sequence number, time, kind, actor and data, chained to the one before
    by `prev` (that line's hash) and `hash` (this one's)."""

    seq: int
    ts: str
    kind: str
    actor: str
    data: Mapping[str, Any]
    prev: str
    hash: str

    def body(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "kind": self.kind, "actor": self.actor,
                "data": self.data, "prev": self.prev}


def _actor() -> str:
    import getpass  # at first use: it loads termios

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no USER variable (containers)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _now() -> datetime:
    return datetime.now(UTC)


@frozen
class _Tail:
    """The end of the journal file: its size, where the last whole line ends, and the (seq,
    hash) of that line (None: no line, or not an entry)."""

    size: int
    good_end: int
    last: tuple[int, str] | None


class Journal:
    """`Journal(state_dir).append(kind, data)`; `verify()`. Safe across threads and processes."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir)
        self.path = self.dir / JOURNAL_FILE
        self.head_path = self.dir / HEAD_FILE
        self.lock_path = self.dir / LOCK_FILE
        self._copy: HeadCopy | None = None  # the state database's copy, during an append

    def append(self, kind: str, data: Mapping[str, Any]) -> Entry:
        """Add one entry and return it.

        `kind` is a dotted name ("enforce.apply", "backup.restore"); `data` a JSON-serialisable
        mapping (TypeError otherwise) that never holds a secret. Raises JournalError if the
        entry was not written (nothing of it is left in the file).
        """
        if not kind:
            raise ValueError("journal entry kind must not be empty")
        payload = dict(data)
        json.dumps(payload)  # TypeError now, before anything is written
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            with self._locked(exclusive=True):
                self._copy = HeadCopy(self.dir)
                try:
                    seq, prev = self._base()
                    return self._write_entry(seq, prev, kind, payload)
                finally:
                    self._copy.close()
                    self._copy = None
        except OSError as exc:
            fault = faults.note("journal_write", str(exc))
            raise JournalError(
                f"cannot append to the journal {self.path}: {exc} (journal write error {fault.count})"
            ) from exc

    def entries(self) -> Iterator[Entry]:
        """Every entry as stored (not verified; use `verify` for that). A line that is not an
        entry (torn, edited) is skipped: `verify` reports it."""
        for _, raw, _ in self._lines():
            try:
                item = json.loads(raw)
                entry = Entry(item["seq"], item["ts"], item["kind"], item["actor"], item["data"],
                              item["prev"], item["hash"])
            except (ValueError, KeyError, TypeError):
                continue
            yield entry

    def verify(self) -> VerifyResult:
        """Check every link of the chain and the head. Only reads; never raises for a damaged
        journal."""
        try:
            with self._locked(exclusive=False):
                head = self._read_head()  # first: an append meanwhile only adds entries
                try:
                    copy, unread = read_only(self.dir), ""
                except CopyUnreadable as exc:  # the file's head still stands: said, not fatal
                    copy, unread = None, f"{exc} / 状态数据库中的链头副本无法读取"
                result = check_chain(self._lines(), head, self.path.name, self.head_path.name,
                                     copy=copy, copy_name=COPY_NAME)
                return replace(result, notes=(*result.notes, unread)) if unread else result
        except OSError as exc:
            return VerifyResult(False, 0, f"cannot read the journal: {exc}")

    # -- appending ---------------------------------------------------------------------------

    def _base(self) -> tuple[int, str]:
        """(seq, hash) the next entry continues from, after setting aside a torn tail and
        recording a lost head or lost entries (each journaled once, when found). The head is
        the highest of `journal.head` and its copy in the state database."""
        own = self._read_head()
        heads = [h for h in (own, self._copy.read() if self._copy is not None else None) if h is not None]
        head = max(heads, key=lambda h: h[0], default=None)  # a tie: the file's own
        tail = self._tail()
        last = tail.last
        if last is not None and (head is None or last[0] > head[0]):
            base = last  # the head lags (its write failed after the entry's) or was lost
        else:
            base = head if head is not None else (0, GENESIS)
        if tail.size > tail.good_end:
            return self._quarantine(tail, head, base)
        lost = last[0] < head[0] if last is not None and head is not None else tail.size == 0
        if own is None and last is not None and not lost:
            log.warning("journal: %s is missing; rebuilding it from entry %d", self.head_path, last[0])
            entry = self._write_entry(*base, HEAD_REBUILT, {"last_seq": last[0], "last_hash": last[1]})
            return entry.seq, entry.hash
        if head is not None and lost:
            where = last[0] if last is not None else 0
            log.error(
                "journal: %s ends at entry %d but its head says %d: entries were lost; continuing "
                "from the head so that `hostward journal verify` keeps reporting the gap",
                self.path, where, head[0])
            entry = self._write_entry(*base, ENTRIES_MISSING, {"file_last_seq": where, "head_seq": head[0]})
            return entry.seq, entry.hash
        return base

    def _quarantine(
        self, tail: _Tail, head: tuple[int, str] | None, base: tuple[int, str]
    ) -> tuple[int, str]:
        with open(self.path, "rb") as fh:
            fh.seek(tail.good_end)
            torn = fh.read(tail.size - tail.good_end)
        digest = str(sha256(torn).hexdigest())
        side = self.dir / f"journal.torn-{_now().strftime('%Y%m%dT%H%M%S')}-{digest[:12]}.bin"
        fd = os.open(side, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY, 0o600)
        try:
            _write_all(fd, torn)
            os.fsync(fd)
        except OSError:  # nothing moved yet: the tail stays where it is for the next try
            os.close(fd)
            side.unlink()
            raise
        os.close(fd)
        fd = os.open(self.path, os.O_WRONLY | _BINARY)
        try:
            os.ftruncate(fd, tail.good_end)
            os.fsync(fd)
        finally:
            os.close(fd)
        after = tail.last[0] if tail.last is not None else 0
        try:
            entry = self._write_entry(*base, QUARANTINED, {
                "size": len(torn), "sha256": digest, "file": side.name, "after_seq": after,
                "head_seq": head[0] if head is not None else None,
                "head_hash": head[1] if head is not None else None,
            })  # fmt: skip
        except OSError:  # not journaled: put the tail back, so that the next append retries
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | _BINARY)
            try:
                _write_all(fd, torn)
                os.fsync(fd)
            finally:
                os.close(fd)
            side.unlink()
            raise
        log.warning("journal: a torn tail of %d bytes after entry %d was set aside to %s",
                    len(torn), after, side.name)
        return entry.seq, entry.hash

    def _write_entry(self, seq: int, prev: str, kind: str, payload: dict[str, Any]) -> Entry:
        ts = _now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        actor = _actor()
        body = {"seq": seq + 1, "ts": ts, "kind": kind, "actor": actor, "data": payload, "prev": prev}
        digest = entry_hash(body)
        line = json.dumps({**body, "hash": digest}, sort_keys=True, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _BINARY, 0o600)
        try:
            good = os.fstat(fd).st_size
            try:
                _write_all(fd, line.encode("utf-8"))
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):  # else the next append sets the torn tail aside
                    os.ftruncate(fd, good)
                    os.fsync(fd)
                raise
        finally:
            os.close(fd)
        try:
            self._write_head(seq + 1, digest)
        except OSError as exc:  # the entry is written: the next append continues from it
            fault = faults.note("journal_write", f"head: {exc}")
            log.error("journal: entry %d (%s) was written but its head could not be updated: %s "
                      "(journal write error %d)", seq + 1, kind, exc, fault.count)
        if self._copy is not None:
            self._copy.write(seq + 1, digest)  # best effort: counted, never raised
        return Entry(seq + 1, ts, kind, actor, payload, prev, digest)

    # -- reading -----------------------------------------------------------------------------

    def _lines(self) -> Iterator[tuple[int, str, bool]]:
        try:
            with open(self.path, encoding="utf-8", errors="replace", newline="\n") as fh:
                for number, raw in enumerate(fh, start=1):
                    if raw.strip():
                        yield number, raw, raw.endswith("\n")
        except FileNotFoundError:
            return

    def _tail(self) -> _Tail:
        try:
            with open(self.path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                good_end, line = _last_line(fh, size)
        except FileNotFoundError:
            return _Tail(0, 0, None)
        try:
            item = json.loads(line) if line is not None else None
            last = (int(item["seq"]), str(item["hash"])) if item is not None else None
        except (ValueError, KeyError, TypeError):
            last = None  # not an entry: verify reports it; continue from the head
        return _Tail(size, good_end, last)

    def _read_head(self) -> tuple[int, str] | None:
        try:
            item = json.loads(self.head_path.read_text(encoding="utf-8"))
            return int(item["seq"]), str(item["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_suffix(".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY, 0o600)
            try:
                _write_all(fd, json.dumps({"seq": seq, "hash": digest}).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.head_path)
            _fsync_dir(self.dir)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        """Exclusive: create what is missing and wait for the lock. Shared (verify): use the lock
        file if it can be opened read-only, else read without it (a read-only copy)."""
        if exclusive:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        else:
            try:
                fd = os.open(self.lock_path, os.O_RDONLY)
            except OSError:
                yield
                return
        try:
            filelock.lock(fd, exclusive)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX; Windows cannot open a directory)."""
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows
        return
    with contextlib.suppress(OSError):  # best effort: the head itself is already in place
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """One write; a short one (a full disk) is an error: the caller cuts it back."""
    written = os.write(fd, data)
    if written != len(data):
        raise OSError(errno.ENOSPC, f"short write: {written} of {len(data)} bytes (disk full?)")


def _last_line(fh: Any, size: int) -> tuple[int, bytes | None]:
    """(offset just after the last newline, the last whole line) of a binary file of `size`."""
    pos, buf = size, b""
    while pos > 0:
        step = min(65536, pos)
        pos -= step
        fh.seek(pos)
        buf = fh.read(step) + buf
        end = buf.rfind(b"\n")
        if end < 0:
            continue
        start = buf.rfind(b"\n", 0, end)
        if start >= 0 or pos == 0:
            return pos + end + 1, buf[start + 1:end]
    return 0, None
