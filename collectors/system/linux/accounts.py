"""Local accounts: /etc/passwd, /etc/shadow and /etc/login.defs, parsed into records."""

from __future__ import annotations

import os
from dataclasses import dataclass

from collectors.system.files import SystemReadError, read_text

NO_LOGIN_SHELLS = frozenset(
    {"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", "/bin/sync", ""}
)


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str
    shell: str

    @property
    def interactive(self) -> bool:
        """Has a login shell (not nologin/false)."""
        return self.shell not in NO_LOGIN_SHELLS


@dataclass(frozen=True)
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


def parse_passwd(text: str) -> list[PasswdEntry]:
    out = []
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 7 or line.startswith("#") or not parts[2].isdigit():
            continue
        out.append(PasswdEntry(parts[0], int(parts[2]), _int_or_none(parts[3]) or 0, parts[5], parts[6]))
    return out


def parse_shadow(text: str) -> dict[str, ShadowEntry]:
    out = {}
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 8 or line.startswith("#"):
            continue
        out[parts[0]] = ShadowEntry(
            name=parts[0],
            password=parts[1],
            last_change=_int_or_none(parts[2]),
            max_days=_int_or_none(parts[4]),
            expire=_int_or_none(parts[7]),
        )
    return out


def parse_login_defs(text: str) -> dict[str, str]:
    """KEY VALUE lines; comments and blank lines ignored. {'PASS_MAX_DAYS': '99999', ...}"""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if not value:
            key, _, value = line.partition("\t")
        out[key] = value.strip()
    return out


def read_passwd(root: str | os.PathLike[str] = "/") -> list[PasswdEntry]:
    text = read_text(root, "/etc/passwd")
    if text is None:
        raise SystemReadError("/etc/passwd", "file is missing")
    return parse_passwd(text)


def read_shadow(root: str | os.PathLike[str] = "/") -> dict[str, ShadowEntry]:
    """Raises ReadDenied when not root: an unreadable shadow file is an error, never a pass."""
    text = read_text(root, "/etc/shadow")
    if text is None:
        raise SystemReadError("/etc/shadow", "file is missing")
    return parse_shadow(text)


def read_login_defs(root: str | os.PathLike[str] = "/") -> dict[str, str]:
    text = read_text(root, "/etc/login.defs")
    return parse_login_defs(text) if text is not None else {}
