"""The access-log archive (ROOM-6): append-only, compressed, one segment a day.

Layout, in `<state_dir>/access-log/`:
- `YYYY-MM-DD.jsonl.gz`: the events collected that UTC day, one JSON object a line. Each append
  adds one whole gzip member (gzip readers read concatenated members as one stream), written
  with one write and fsynced; nothing is ever rewritten. Events keep their own time (`ts`):
  a segment may hold older events (the first run imports the rotated logs kept on disk).
- `current.json`: the open segment and the size of its last whole member. A crash in the
  middle of a write leaves a torn member: it is cut back to that size before the next append.
- `SHA256SUMS`: `<sha256>  <segment>` of every sealed segment. A segment is sealed (hashed,
  listed, made read-only) on the first append of a later day; `verify()` recomputes the list.
- `lock`: one writer at a time (the `access_log` job and the daemon's USB listener).

Segments older than `keep_days` (default 400: more than the six months ROOM-6 asks) are
deleted by `prune()`, which returns their names for the caller to journal.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.access import archive_dir
from collectors.access import AccessEvent
from collectors.system import filelock
from collectors.system.atomic import write_atomic
from common.digest import sha256
from common.errors import HostwardError
from common.frozen import frozen

SUMS = "SHA256SUMS"
CURRENT = "current.json"
SUFFIX = ".jsonl.gz"
_BINARY = getattr(os, "O_BINARY", 0)


class ArchiveError(HostwardError):
    """The archive cannot be written or read."""


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def _segment_day(name: str) -> date | None:
    if not name.endswith(SUFFIX):
        return None
    try:
        return date.fromisoformat(name[: -len(SUFFIX)])
    except ValueError:
        return None


@frozen
class ReadStats:
    """What one `Archive.read` went through: segments opened, events yielded, lines that were not an
    event, and the segments whose compressed tail was torn."""

    segments: int
    events: int
    bad_lines: int
    torn: list[str]  # segments whose tail could not be decompressed


class Archive:
    """The access-log archive of a state directory: append, read, seal, verify and prune its segments."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = archive_dir(state_dir)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT | _BINARY, 0o600)
        try:
            filelock.lock(fd)
            yield
        finally:
            os.close(fd)

    def segments(self) -> list[str]:
        """Segment names, oldest first."""
        if not self.dir.is_dir():
            return []
        return sorted(n for n in os.listdir(self.dir) if _segment_day(n) is not None)

    def _current(self) -> dict[str, Any]:
        try:
            data = json.loads((self.dir / CURRENT).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def append(self, events: Iterable[AccessEvent], now: float) -> int:
        """Add `events` to today's segment (sealing an earlier open one first); returns how many."""
        lines = [json.dumps(e.to_json(), sort_keys=True, ensure_ascii=False) for e in events]
        if not lines:
            return 0
        member = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)
        today = day_of(now) + SUFFIX
        try:
            with self._locked():
                current = self._current()
                name = current.get("segment")
                if isinstance(name, str) and name != today:
                    self._seal(name)
                    current = {}
                path = self.dir / today
                good = int(current.get("size", 0)) if current.get("segment") == today else None
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | _BINARY, 0o600)
                try:
                    size = os.fstat(fd).st_size
                    if good is not None and size > good:
                        os.ftruncate(fd, good)  # a torn member from a crash: cut back
                        size = good
                    os.lseek(fd, size, os.SEEK_SET)
                    if os.write(fd, member) != len(member):
                        os.ftruncate(fd, size)
                        raise ArchiveError(f"{path}: short write")
                    os.fsync(fd)
                finally:
                    os.close(fd)
                write_atomic(
                    self.dir / CURRENT, json.dumps({"segment": today, "size": size + len(member)}).encode()
                )
        except OSError as exc:
            raise ArchiveError(f"access-log archive: {exc}") from exc
        return len(lines)

    def _seal(self, name: str) -> None:
        path = self.dir / name
        if not path.exists():
            return
        digest = sha256(path.read_bytes()).hexdigest()
        listed = {line.split("  ", 1)[-1] for line in self._sums()}
        if name not in listed:
            with open(self.dir / SUMS, "a", encoding="utf-8", newline="\n") as fh:
                fh.write(f"{digest}  {name}\n")
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(path, 0o400)

    def seal_past(self, now: float) -> None:
        """Seal the open segment when its day is over (a quiet day still gets sealed)."""
        with self._locked():
            name = self._current().get("segment")
            if isinstance(name, str) and name != day_of(now) + SUFFIX:
                self._seal(name)
                (self.dir / CURRENT).unlink(missing_ok=True)

    def _sums(self) -> list[str]:
        try:
            return [ln for ln in (self.dir / SUMS).read_text("utf-8").splitlines() if ln.strip()]
        except FileNotFoundError:
            return []

    def verify(self) -> list[str]:
        """Problems of the sealed segments: a listed one changed or missing ([] when all hold)."""
        problems = []
        for line in self._sums():
            digest, _, name = line.partition("  ")
            path = self.dir / name
            if not path.exists():
                problems.append(f"{name}: missing")
            elif sha256(path.read_bytes()).hexdigest() != digest:
                problems.append(f"{name}: changed since it was sealed")
        return problems

    def prune(self, keep_days: int, now: float) -> list[str]:
        """Delete segments older than `keep_days`; their names (the caller journals them)."""
        cutoff = datetime.fromtimestamp(now, UTC).date() - timedelta(days=keep_days)
        gone = []
        with self._locked():
            for name in self.segments():
                day = _segment_day(name)
                if day is not None and day < cutoff:
                    path = self.dir / name
                    os.chmod(path, 0o600)
                    path.unlink()
                    gone.append(name)
            if gone:
                kept = [ln for ln in self._sums() if ln.partition("  ")[2] not in gone]
                write_atomic(self.dir / SUMS, "".join(f"{ln}\n" for ln in kept).encode())
        return gone

    def read(self, since: float | None = None, stats: list[ReadStats] | None = None) -> Iterator[AccessEvent]:
        """Events, segment by segment (oldest first), with `ts >= since`. A torn tail or a bad
        line is skipped and counted in `stats` (one ReadStats appended at the end)."""
        first = day_of(since) + SUFFIX if since is not None else ""
        names = [n for n in self.segments() if n >= first]
        count = bad = 0
        torn: list[str] = []
        for name in names:
            for line in _lines(self.dir / name, torn):
                try:
                    event = AccessEvent.from_json(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    bad += 1
                    continue
                if since is None or event.ts >= since:
                    count += 1
                    yield event
        if stats is not None:
            stats.append(ReadStats(len(names), count, bad, torn))


def _lines(path: Path, torn: list[str]) -> Iterator[bytes]:
    """The lines of a segment, member by member; a member that does not decompress ends it."""
    try:
        data = path.read_bytes()
    except OSError:
        torn.append(path.name)
        return
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            text = inflater.decompress(data)
        except zlib.error:
            torn.append(path.name)
            return
        if not inflater.eof:
            torn.append(path.name)
            return
        yield from (ln for ln in text.split(b"\n") if ln.strip())
        data = inflater.unused_data
