"""Windows: a restic password file must be readable by SYSTEM and Administrators only (and
the account hostward runs as, which is SYSTEM for the service: it must read the file).

The file's DACL is read with pywin32 (`win32security`). Any allow entry that lets another
account or group read it (Users, Everyone, Authenticated Users, one user...), or no DACL at
all (everyone has full access), makes the file exposed: the backup refuses to use it and says
which accounts can read it and how to fix it. When the DACL cannot be read (pywin32 missing,
access denied) the answer is "cannot check", which also refuses: could-not-determine is never
a pass. The POSIX mode check is separate (it runs on Linux); this module is Windows only.
"""

from __future__ import annotations

import sys
from typing import Any

SYSTEM_SID = "S-1-5-18"
ADMINISTRATORS_SID = "S-1-5-32-544"
ALLOWED_SIDS = frozenset({SYSTEM_SID, ADMINISTRATORS_SID})
FIX = 'icacls "{path}" /inheritance:r /grant:r SYSTEM:F Administrators:F'

FILE_READ_DATA = 0x0001
GENERIC_ALL = 0x10000000
GENERIC_READ = 0x80000000
READS = FILE_READ_DATA | GENERIC_ALL | GENERIC_READ
ACCESS_ALLOWED_ACE_TYPE = 0
INHERIT_ONLY_ACE = 0x08


def readers_beyond_admins(aces: list[tuple[int, int, int, str]]) -> list[str]:
    """SIDs other than SYSTEM and Administrators that an allow entry lets read the file.
    `aces`: (type, flags, mask, SID string) as the DACL lists them."""
    out = []
    for ace_type, flags, mask, sid in aces:
        if ace_type != ACCESS_ALLOWED_ACE_TYPE or flags & INHERIT_ONLY_ACE or not mask & READS:
            continue
        if sid not in ALLOWED_SIDS and sid not in out:
            out.append(sid)
    return out


def windows_password_file_problem(path: str) -> str | None:
    """Why `path` must not be used as a password file on Windows, or None when only SYSTEM
    and Administrators can read it. Off Windows: None (the POSIX mode check applies there)."""
    if sys.platform == "win32":  # pragma: no cover - Windows (tested under Wine)
        return _problem(path)
    return None


def _problem(path: str) -> str | None:  # pragma: no cover - Windows (tested under Wine)
    try:
        import win32security
    except ImportError:
        return f"cannot check who may read the password file {path}: pywin32 is not installed"
    try:
        sd = win32security.GetFileSecurity(path, win32security.DACL_SECURITY_INFORMATION)
        dacl = sd.GetSecurityDescriptorDacl()
    except win32security.error as exc:
        return f"cannot check who may read the password file {path}: {exc.strerror}"
    if dacl is None:
        return (
            f"the password file {path} has no access list: everyone can read it; fix: {FIX.format(path=path)}"
        )
    aces = []
    for index in range(dacl.GetAceCount()):
        (ace_type, flags), mask, sid = dacl.GetAce(index)[:3]
        aces.append((int(ace_type), int(flags), int(mask), win32security.ConvertSidToStringSid(sid)))
    others = [sid for sid in readers_beyond_admins(aces) if sid != _own_sid(win32security)]
    if not others:
        return None
    names = ", ".join(_account(win32security, sid) for sid in others)
    return (
        f"the password file {path} can be read by {names}, not only SYSTEM and Administrators; "
        f"fix: {FIX.format(path=path)}"
    )


def _own_sid(win32security: Any) -> str:  # pragma: no cover - Windows
    """The account hostward runs as (SYSTEM for the service): it must read the file anyway."""
    import win32api
    import win32con

    token = win32security.OpenProcessToken(win32api.GetCurrentProcess(), win32con.TOKEN_QUERY)
    sid = win32security.GetTokenInformation(token, win32security.TokenUser)[0]
    return str(win32security.ConvertSidToStringSid(sid))


def _account(win32security: Any, sid: str) -> str:  # pragma: no cover - Windows
    try:
        name, domain, _ = win32security.LookupAccountSid(None, win32security.ConvertStringSidToSid(sid))
    except Exception:  # an orphaned SID has no name: show the SID
        return sid
    return f"{domain}\\{name} ({sid})" if domain else f"{name} ({sid})"
