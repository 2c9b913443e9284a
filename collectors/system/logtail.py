"""Read what is new in a rotating log under a root, from a bookmark (POSIX).

A log `P` is rotated by logrotate into `P.1`, `P.2.gz`, ... (rename and create, copytruncate,
with or without delaycompress). A bookmark names the file read last by the hash of its first
unit (a line, or a fixed-size record for wtmp/btmp), its inode and the offset read up to, in
uncompressed bytes. The next read finds that file among `P`, `P.1`, `P.1.gz`, ... by its first
unit (the inode breaks a tie): it is read on from the offset, then every newer file from its
start. So a rotation between two reads gives no duplicate and no gap:

- rename + new file: `P.1` holds the bookmarked head; read on there, then `P` from 0;
- copytruncate: `P.1` is a copy with the head, `P` (same inode) now starts with other lines;
- compressed: `P.1.gz` decompressed holds the head at the same offsets.

When no kept file holds the head (rotated past the kept count), everything present is read and
`gap` says lines may be missing. Only whole units are consumed from the live file: a line being
written (no newline yet) is read next time. Files are opened inside the root (rootfs).
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from collectors.system.files import SystemReadError
from common.frozen import frozen

if os.name == "posix":  # pragma: no branch - Linux logs only; the module imports on Windows
    from collectors.system import rootfs

ROTATED = 9  # P.1 .. P.9, plain or .gz
CHUNK = 64 * 1024
MAX_LINE = 1 << 20  # a longer "line" is cut into units of this size (no unbounded buffer)


@frozen
class Bookmark:
    """Where reading stopped: the file read last (the hash of its first unit, its inode) and the
    offset read up to, in uncompressed bytes."""

    inode: int
    offset: int
    head: str  # SHA-256 of the first unit (hex)

    def to_json(self) -> dict[str, Any]:
        return {"inode": self.inode, "offset": self.offset, "head": self.head}

    @classmethod
    def from_json(cls, data: Any) -> Bookmark | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(int(data["inode"]), int(data["offset"]), str(data["head"]))
        except (KeyError, TypeError, ValueError):
            return None


@frozen
class Tail:
    """What one read of a rotating log brought: new units (lines or records) and the bookmark after
    them."""

    units: list[bytes]
    bookmark: Bookmark | None  # None: nothing with a head was ever read
    gap: str = ""  # why units may be missing ("" when none are)
    files: tuple[str, ...] = ()  # the files read, oldest first
    partial: bytes = b""  # a short trailing record in a rotated file (binary logs): not a unit
    more: bool = False  # stopped at the byte cap: call again


@dataclass
class _File:
    """One file of a rotating log: path, inode, the hash of its first unit, and whether it is gzipped."""

    path: str
    inode: int
    head: str
    gz: bool


def candidates(path: str) -> list[str]:
    """`P`, `P.1`, `P.1.gz`, ... `P.9.gz`: newest first."""
    out = [path]
    for n in range(1, ROTATED + 1):
        out += [f"{path}.{n}", f"{path}.{n}.gz"]
    return out


def _open(root: str, path: str) -> tuple[IO[bytes], int] | None:
    try:
        fd = rootfs.open_file(root, path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SystemReadError(path, f"cannot read: {exc.strerror or exc}") from exc
    inode = os.fstat(fd).st_ino
    raw = os.fdopen(fd, "rb")
    if path.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb"), inode  # type: ignore[return-value]
    return raw, inode


def _first_unit(fh: IO[bytes], unit: int | None) -> bytes:
    if unit:
        data = fh.read(unit)
        return data if len(data) == unit else b""
    line = fh.readline(CHUNK)
    return line if line.endswith(b"\n") else b""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest() if data else ""


def _scan(root: str, path: str, unit: int | None) -> list[_File]:
    found = []
    for name in candidates(path):
        opened = _open(root, name)
        if opened is None:
            continue
        fh, inode = opened
        try:
            head = _digest(_first_unit(fh, unit))
        except (OSError, EOFError) as exc:
            raise SystemReadError(name, f"unreadable ({exc})") from exc
        finally:
            fh.close()
        found.append(_File(name, inode, head, name.endswith(".gz")))
    return found


def _units(fh: IO[bytes], unit: int | None, live: bool, budget: int) -> Iterator[tuple[bytes, int]]:
    """(unit, bytes it took) from the current position, while the budget lasts."""
    rest = b""
    used = 0
    while used < budget:
        chunk = fh.read(min(CHUNK, budget - used + (unit or 0)))
        if not chunk:
            break
        data = rest + chunk
        if unit:
            whole = len(data) - len(data) % unit
            for i in range(0, whole, unit):
                used += unit
                yield data[i : i + unit], unit
            rest = data[whole:]
        else:
            lines = data.split(b"\n")
            rest = lines.pop()
            for line in lines:
                used += len(line) + 1
                yield line, len(line) + 1
            if len(rest) > MAX_LINE:  # no newline for a megabyte: not a log line; pass it on whole
                used += len(rest)
                yield rest, len(rest)
                rest = b""
    if rest and not live and used < budget and not unit:
        yield rest, len(rest)  # a rotated file's last line, never to be finished


def _skip(fh: IO[bytes], f: _File, pos: int) -> int:
    """Move to `pos`; -1 (and back at the start) when the file is shorter than that."""
    if not pos:
        return 0
    if f.gz:
        left = pos
        while left > 0:
            got = len(fh.read(min(CHUNK, left)))
            if not got:
                fh.seek(0)
                return -1
            left -= got
        return pos
    if os.fstat(fh.fileno()).st_size < pos:
        return -1
    fh.seek(pos)
    return pos


def read_new(
    root: str, path: str, bookmark: Bookmark | None, *, unit: int | None = None, max_bytes: int = 32 << 20
) -> Tail:
    """The units added to log `path` (and its rotations) since `bookmark`, oldest first."""
    files = _scan(root, path, unit)
    if not files:
        return Tail([], bookmark)
    gap = ""
    start, offset = len(files) - 1, 0  # no bookmark: everything kept, oldest first
    if bookmark is not None and bookmark.head:
        matches = [i for i, f in enumerate(files) if f.head == bookmark.head]
        same = [i for i in matches if files[i].inode == bookmark.inode]
        if matches:
            start, offset = (same or matches)[0], bookmark.offset
        else:
            gap = "the file read last time is no longer kept: lines rotated away may be missing"
    out: list[bytes] = []
    read: list[str] = []
    budget = max_bytes
    mark = bookmark
    partial = b""
    for index in range(start, -1, -1):
        f = files[index]
        opened = _open(root, f.path)
        if opened is None:
            continue
        fh, _ = opened
        live = index == 0 and not f.gz
        try:
            pos = _skip(fh, f, offset if index == start else 0)
            if pos < 0:
                pos, gap = 0, gap or f"{f.path} is shorter than the bookmark: read again from its start"
            for data, size in _units(fh, unit, live, budget):
                out.append(data)
                pos += size
                budget -= size
            if unit and not live:
                tail = fh.read(unit)
                if tail and len(tail) < unit:
                    partial = tail
        except (OSError, EOFError) as exc:
            raise SystemReadError(f.path, f"unreadable ({exc})") from exc
        finally:
            fh.close()
        read.append(f.path)
        if f.head:
            mark = Bookmark(f.inode, pos, f.head)
        if budget <= 0:
            return Tail(out, mark, gap, tuple(read), partial, more=True)
    return Tail(out, mark, gap, tuple(read), partial)
