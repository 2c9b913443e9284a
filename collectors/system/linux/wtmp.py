"""Logins and logouts from wtmp, failed logins from btmp: struct utmp, 384 bytes a record.

The layout is glibc's on 64-bit Linux (x86_64, aarch64): type, pid, line, id, user, host,
exit status, session, tv_sec, tv_usec, address, 20 unused bytes (collectors/system/linux/
sessions.py reads /run/utmp with the same struct). A record is checked before it is believed:
a known type, a time after 1990 and not in the future, text fields that decode as UTF-8 with no
control characters. Anything else is counted as malformed and skipped, never guessed at.
"""

from __future__ import annotations

import struct
import time

from collectors.access import AccessEvent
from common.frozen import frozen

WTMP = "/var/log/wtmp"
BTMP = "/var/log/btmp"
RECORD = struct.Struct("<h2xi32s4s32s256shhiii16s20x")
SIZE = RECORD.size  # 384
LOGIN_PROCESS, USER_PROCESS, DEAD_PROCESS = 6, 7, 8
_MIN_TIME = 631152000  # 1990-01-01


@frozen
class Utmp:
    """One utmp record: type, pid, line, user, remote host and time (Unix time)."""

    type: int
    pid: int
    line: str
    user: str
    host: str
    ts: float


def _text(raw: bytes) -> str:
    """The NUL-terminated text; ValueError for bytes no login program writes."""
    value = raw.split(b"\0", 1)[0].decode("utf-8")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control character")
    return value


def parse_record(data: bytes, now: float | None = None) -> Utmp | None:
    """One record; None when it is malformed."""
    if len(data) != SIZE:
        return None
    fields = RECORD.unpack(data)
    kind, pid, tv_sec, tv_usec = fields[0], fields[1], fields[9], fields[10]
    if not 0 <= kind <= 9 or pid < 0 or not 0 <= tv_usec < 1_000_000:
        return None
    if kind and not _MIN_TIME <= tv_sec <= (now or time.time()) + 86400:
        return None
    try:
        return Utmp(kind, pid, _text(fields[2]), _text(fields[4]), _text(fields[5]), tv_sec + tv_usec / 1e6)
    except (UnicodeDecodeError, ValueError):
        return None


def record(kind: int, user: str, line: str, host: str = "", when: float = 0.0, pid: int = 1000) -> bytes:
    """A record as login/sshd write it (tests build wtmp/btmp files with it)."""
    sec = int(when)
    return RECORD.pack(
        kind, pid, line.encode(), b"", user.encode(), host.encode(), 0, 0, 0, sec,
        int((when - sec) * 1e6), b"",
    )  # fmt: skip


def wtmp_events(records: list[bytes], lines: dict[str, str]) -> tuple[list[AccessEvent], int]:
    """(events, malformed count). `lines` maps a tty to the user logged in on it (logout
    records carry no name); it is updated, so the caller can keep it between reads."""
    out, bad = [], 0
    for raw in records:
        rec = parse_record(raw)
        if rec is None:
            bad += 1
            continue
        if rec.type == USER_PROCESS and rec.user:
            lines[rec.line] = rec.user
            out.append(AccessEvent(rec.ts, "login", rec.user, "wtmp", rec.line, rec.host))
        elif rec.type == DEAD_PROCESS and rec.line:
            user = rec.user or lines.pop(rec.line, "")
            out.append(AccessEvent(rec.ts, "logout", user, "wtmp", rec.line, rec.host))
    return out, bad


def btmp_events(records: list[bytes]) -> tuple[list[AccessEvent], int]:
    """Each btmp record is one failed login (lastb): (events, malformed count)."""
    out, bad = [], 0
    for raw in records:
        rec = parse_record(raw)
        if rec is None:
            bad += 1
        elif rec.type in (LOGIN_PROCESS, USER_PROCESS):
            out.append(AccessEvent(rec.ts, "failed_login", rec.user, "btmp", rec.line, rec.host))
    return out, bad
