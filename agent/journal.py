"""The journal (ROOM-4): an append-only, hash-chained log of checks, changes, enforcement,
backups and restores, in `journal.jsonl` in the state directory.

Each line is one JSON entry: `seq` (1, 2, ...), `ts` (UTC, ISO 8601), `kind` (e.g.
"enforce.apply", "backup.restore"), `actor` (the user running the process), `data`, `prev`
(the hash of the entry before, 64 zeros for the first) and `hash`, the SHA-256 of the
canonical JSON of all the other fields. `journal.head` holds the seq and hash of the last
entry, so cutting entries off the end is detected too. Edited, deleted, reordered or cut
entries all make `verify()` fail.

The chain proves the journal was not changed *by accident or by someone who did not recompute
it*; copy it off the host (backups, central log) to protect it against root on the host.

The daemon and CLI commands append concurrently: every append holds an exclusive lock on
`journal.lock`, writes one line, fsyncs it, then replaces the head atomically.
"""

from __future__ import annotations

import contextlib
import getpass
import importlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.errors import HostwardError

GENESIS = "0" * 64
JOURNAL_FILE = "journal.jsonl"
HEAD_FILE = "journal.head"
LOCK_FILE = "journal.lock"


class JournalError(HostwardError):
    """The journal cannot be read or written."""


@dataclass(frozen=True)
class Entry:
    seq: int
    ts: str
    kind: str
    actor: str
    data: Mapping[str, Any]
    prev: str
    hash: str

    def body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "actor": self.actor,
            "data": self.data,
            "prev": self.prev,
        }


@dataclass(frozen=True)
class VerifyResult:
    """`ok` and the number of intact entries, or the first problem found (with its line)."""

    ok: bool
    entries: int
    problem: str = ""


def _builtin_sha256() -> Any:
    """CPython's own SHA-256: hashlib would map libcrypto (~3 MiB resident) into the daemon."""
    for name in ("_sha2", "_sha256"):  # 3.12+, 3.11
        try:
            return importlib.import_module(name).sha256
        except ImportError:
            continue
    return importlib.import_module("hashlib").sha256


_sha256 = _builtin_sha256()


def entry_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry without its `hash`."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(_sha256(canonical.encode("utf-8")).hexdigest())


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no USER variable (containers)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


class Journal:
    """`Journal(state_dir).append(kind, data)`; `verify()`. Safe across threads and processes."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir)
        self.path = self.dir / JOURNAL_FILE
        self.head_path = self.dir / HEAD_FILE
        self.lock_path = self.dir / LOCK_FILE

    def append(self, kind: str, data: Mapping[str, Any]) -> Entry:
        """Add one entry and return it.

        `kind` is a dotted name ("enforce.apply", "backup.restore"); `data` a JSON-serialisable
        mapping (TypeError otherwise) that never holds a secret. Raises JournalError if the
        journal cannot be written.
        """
        if not kind:
            raise ValueError("journal entry kind must not be empty")
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            with self._locked():
                seq, prev = self._last()
                ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                actor, payload = _actor(), dict(data)
                body = {"seq": seq + 1, "ts": ts, "kind": kind, "actor": actor, "data": payload, "prev": prev}
                digest = entry_hash(body)
                line = json.dumps({**body, "hash": digest}, sort_keys=True, ensure_ascii=False) + "\n"
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line.encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                self._write_head(seq + 1, digest)
        except OSError as exc:
            raise JournalError(f"cannot append to the journal {self.path}: {exc}") from exc
        return Entry(seq + 1, ts, kind, actor, payload, prev, digest)

    def entries(self) -> Iterator[Entry]:
        """Every entry as stored (not verified; use `verify` for that)."""
        for _, raw in self._lines():
            item = json.loads(raw)
            yield Entry(
                item["seq"], item["ts"], item["kind"], item["actor"], item["data"], item["prev"], item["hash"]
            )

    def verify(self) -> VerifyResult:
        """Check every link of the chain and the head. Never raises for a damaged journal."""
        try:
            with self._locked():
                return self._verify()
        except OSError as exc:
            return VerifyResult(False, 0, f"cannot read the journal: {exc}")

    # -- internals ---------------------------------------------------------------------------

    def _verify(self) -> VerifyResult:
        prev, count = GENESIS, 0
        hashes: dict[int, str] = {}
        for number, raw in self._lines():
            where = f"{self.path.name}:{number}"
            try:
                item = json.loads(raw)
                body = {k: item[k] for k in ("seq", "ts", "kind", "actor", "data", "prev")}
                stored = item["hash"]
            except (ValueError, KeyError, TypeError):
                return VerifyResult(False, count, f"{where}: not a journal entry (edited or cut)")
            if set(item) != {*body, "hash"}:
                return VerifyResult(False, count, f"{where}: unexpected fields (edited)")
            if body["seq"] != count + 1:
                return VerifyResult(
                    False,
                    count,
                    f"{where}: seq {body['seq']} where {count + 1} was expected "
                    "(an entry was deleted or moved)",
                )
            if body["prev"] != prev:
                return VerifyResult(False, count, f"{where}: does not link to the entry before")
            if entry_hash(body) != stored:
                return VerifyResult(False, count, f"{where}: hash mismatch (entry {body['seq']} was edited)")
            prev = stored
            count += 1
            hashes[count] = stored
        head = self._read_head()
        if head is None:
            if count:
                return VerifyResult(False, count, f"{self.head_path.name} is missing or unreadable")
            return VerifyResult(True, 0)
        head_seq, head_hash = head
        if head_seq > count:
            return VerifyResult(
                False,
                count,
                f"the journal ends at entry {count} but entry {head_seq} was written "
                "(entries were cut off the end)",
            )
        if hashes.get(head_seq, GENESIS) != head_hash:
            return VerifyResult(False, count, f"entry {head_seq} differs from the one recorded in the head")
        # head_seq < count only after a crash between writing an entry and its head: the next
        # append rewrites the head. The chain itself is intact.
        return VerifyResult(True, count)

    def _lines(self) -> Iterator[tuple[int, str]]:
        try:
            with open(self.path, encoding="utf-8", errors="replace", newline="\n") as fh:
                for number, raw in enumerate(fh, start=1):
                    if raw.strip():
                        yield number, raw
        except FileNotFoundError:
            return

    def _last(self) -> tuple[int, str]:
        """(seq, hash) of the last entry, read from the end of the file."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 65536))
                tail = fh.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return 0, GENESIS
        lines = [line for line in tail.splitlines() if line.strip()]
        if not lines:
            return 0, GENESIS
        try:
            last = json.loads(lines[-1])
            return int(last["seq"]), str(last["hash"])
        except (ValueError, KeyError, TypeError):
            # A damaged tail: keep appending after it (verify reports the damage) rather than
            # lose the new entry, but never pretend to be the first entry.
            head = self._read_head()
            return head if head is not None else (len(lines), GENESIS)

    def _read_head(self) -> tuple[int, str] | None:
        try:
            item = json.loads(self.head_path.read_text(encoding="utf-8"))
            return int(item["seq"]), str(item["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, json.dumps({"seq": seq, "hash": digest}).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.head_path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
            yield
        finally:
            os.close(fd)  # closing releases the lock


if sys.platform == "win32":  # pragma: no cover - Windows
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)
