"""Who is logged in: /run/utmp records and systemd-logind's session files.

A USB exemption is given to a named person; it holds on a host only while the people logged
in are exempted ones, so the audit needs the owners of the current sessions. Both sources are
files (no subprocess): utmp (the fixed 384-byte glibc record) and /run/systemd/sessions/*.
"""

from __future__ import annotations

import os
import struct

from collectors.system.files import list_dir, read_bytes, read_text
from common.frozen import frozen

UTMP = "/run/utmp"
USER_PROCESS = 7
# glibc on 64-bit Linux: type, pid, line, id, user, host, exit, session, tv, addr_v6, unused.
_RECORD = struct.Struct("<h2xi32s4s32s256shhiii16s20x")


@frozen
class Session:
    """One logged-in session: user, tty or seat, remote host, and where it was read."""

    user: str
    line: str  # tty or seat ("tty2", "pts/0", "seat0")
    host: str
    source: str  # "utmp" or "logind"


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def parse_utmp(data: bytes) -> list[Session]:
    out = []
    for offset in range(0, len(data) - _RECORD.size + 1, _RECORD.size):
        fields = _RECORD.unpack_from(data, offset)
        if fields[0] == USER_PROCESS and _text(fields[4]):
            out.append(Session(_text(fields[4]), _text(fields[2]), _text(fields[5]), "utmp"))
    return out


def utmp_record(user: str, line: str, host: str = "", pid: int = 1000, when: int = 0) -> bytes:
    """One USER_PROCESS record, as login/sshd write it (used to build fixture trees)."""
    return _RECORD.pack(
        USER_PROCESS, pid, line.encode(), b"", user.encode(), host.encode(), 0, 0, 0, when, 0, b""
    )


def parse_logind_session(text: str) -> Session | None:
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if fields.get("CLASS", "user") != "user" or fields.get("STATE") not in ("active", "online"):
        return None
    user = fields.get("USER", "")
    return (
        Session(user, fields.get("TTY") or fields.get("SEAT", ""), fields.get("REMOTE_HOST", ""), "logind")
        if user
        else None
    )


def read_sessions(root: str | os.PathLike[str] = "/") -> list[Session] | None:
    """Current user sessions; None when neither utmp nor logind's directory exists (e.g. offline)."""
    data = read_bytes(root, UTMP, 4096 * _RECORD.size)
    names = list_dir(root, "/run/systemd/sessions")
    if data is None and not names:
        return None
    sessions = parse_utmp(data or b"")
    for name in names:
        if name.endswith(".ref"):
            continue
        text = read_text(root, f"/run/systemd/sessions/{name}")
        found = parse_logind_session(text or "")
        if found is not None:
            sessions.append(found)
    return sessions
