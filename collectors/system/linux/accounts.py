"""Local accounts: /etc/passwd, /etc/shadow and /etc/login.defs, parsed into records."""

from __future__ import annotations

import os
import re
from typing import Generic, TypeVar

from collectors.system.files import SystemReadError, Unparsable, read_text
from common.frozen import frozen

NO_LOGIN_SHELLS = frozenset(
    {"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", "/bin/sync", ""}
)


@frozen
class PasswdEntry:
    """One /etc/passwd line (the fields the checks use)."""

    name: str
    uid: int
    gid: int
    home: str
    shell: str

    @property
    def interactive(self) -> bool:
        """Has a login shell (not nologin/false)."""
        return self.shell not in NO_LOGIN_SHELLS


@frozen
class ShadowEntry:
    """One /etc/shadow line. Day counts are days since 1970-01-01; None where the field is empty."""

    name: str
    password: str  # the hash field; never leaves this module except as a classification
    last_change: int | None
    max_days: int | None
    expire: int | None

    @property
    def hash_state(self) -> str:
        """'empty' (no password needed), 'locked' ('!' or '*' prefix), or 'set'."""
        if self.password == "":
            return "empty"
        if self.password.startswith(("!", "*")):
            return "locked"
        return "set"

    def expired(self, today: int) -> bool:
        return self.expire is not None and self.expire <= today


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else None


T = TypeVar("T", covariant=True)
_KEY = re.compile(r"[A-Z][A-Z0-9_]*")


@frozen
class Parsed(Generic[T]):
    """Records read from a file, and the numbers (from 1) of the lines that did not parse:
    a reader reports them, it never drops them silently."""

    path: str
    records: T
    unparsed: tuple[int, ...] = ()


def judge(path: str, records: int, unparsed: list[int], *, required: bool) -> tuple[int, ...]:
    """Raise Unparsable when the file holds no record where records must exist, or when most
    of its lines do not parse (garbage, a wrong file, a truncated one); else the bad lines."""
    if required and records == 0:
        raise Unparsable(path, f"no valid record ({len(unparsed)} line(s) that do not parse)")
    if len(unparsed) > records:
        shown = ", ".join(map(str, unparsed[:10]))
        raise Unparsable(
            path, f"{len(unparsed)} of {len(unparsed) + records} lines do not parse (lines {shown})"
        )
    return tuple(unparsed)


def _ignored(line: str) -> bool:
    """Blank lines, comments, and NIS compat lines (+/-) are neither records nor garbage."""
    stripped = line.strip()
    return not stripped or stripped.startswith(("#", "+", "-"))


def scan_passwd(text: str) -> tuple[list[PasswdEntry], list[int]]:
    out, bad = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if _ignored(line):
            continue
        parts = line.split(":")
        if len(parts) != 7 or not parts[0] or not parts[2].isdigit() or not parts[3].isdigit():
            bad.append(lineno)
            continue
        out.append(PasswdEntry(parts[0], int(parts[2]), int(parts[3]), parts[5], parts[6]))
    return out, bad


def _day_field(text: str) -> bool:
    return text == "" or text.lstrip("-").isdigit()


def scan_shadow(text: str) -> tuple[dict[str, ShadowEntry], list[int]]:
    out, bad = {}, []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if _ignored(line):
            continue
        parts = line.split(":")
        if len(parts) not in (8, 9) or not parts[0] or not all(_day_field(p) for p in parts[2:8]):
            bad.append(lineno)
            continue
        out[parts[0]] = ShadowEntry(
            name=parts[0],
            password=parts[1],
            last_change=_int_or_none(parts[2]),
            max_days=_int_or_none(parts[4]),
            expire=_int_or_none(parts[7]),
        )
    return out, bad


def scan_login_defs(text: str) -> tuple[dict[str, str], list[int]]:
    out, bad = {}, []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not _KEY.fullmatch(parts[0]):
            bad.append(lineno)
            continue
        out[parts[0]] = parts[1].strip()
    return out, bad


def check_login_defs(text: str) -> dict[str, str]:
    """KEY VALUE lines ({'PASS_MAX_DAYS': '99999', ...}); Unparsable for a file that is mostly garbage."""
    found, bad = scan_login_defs(text)
    judge("/etc/login.defs", len(found), bad, required=False)
    return found


def read_passwd(root: str | os.PathLike[str] = "/") -> Parsed[list[PasswdEntry]]:
    """Raises Unparsable for a passwd without valid records, mostly garbage, or without root."""
    text = read_text(root, "/etc/passwd")
    if text is None:
        raise SystemReadError("/etc/passwd", "file is missing")
    found, bad = scan_passwd(text)
    unparsed = judge("/etc/passwd", len(found), bad, required=True)
    if not any(u.name == "root" and u.uid == 0 for u in found):
        raise Unparsable("/etc/passwd", "no root account (UID 0): not a whole passwd file")
    return Parsed("/etc/passwd", found, unparsed)


def read_shadow(root: str | os.PathLike[str] = "/") -> Parsed[dict[str, ShadowEntry]]:
    """Raises ReadDenied when not root: an unreadable shadow file is an error, never a pass."""
    text = read_text(root, "/etc/shadow")
    if text is None:
        raise SystemReadError("/etc/shadow", "file is missing")
    found, bad = scan_shadow(text)
    return Parsed("/etc/shadow", found, judge("/etc/shadow", len(found), bad, required=True))


def read_login_defs(root: str | os.PathLike[str] = "/") -> Parsed[dict[str, str]]:
    """{} when absent (every setting at its default); Unparsable when mostly garbage."""
    text = read_text(root, "/etc/login.defs")
    if text is None:
        return Parsed("/etc/login.defs", {})
    found, bad = scan_login_defs(text)
    return Parsed("/etc/login.defs", found, judge("/etc/login.defs", len(found), bad, required=False))


def unparsed_evidence(*files: Parsed[object]) -> dict[str, list[int]]:
    """{path: [line numbers]} of the lines the readers could not parse, for a check's evidence."""
    return {f.path: list(f.unparsed) for f in files if f.unparsed}
