"""Checks of where the copies and their password live (BAK-2 wants two different media).

- `same_media`: both repositories on one filesystem (or one inside the other) are one disk
  failure from losing both. Local paths are compared by the st_dev of their nearest existing
  directory; a remote URL (sftp:, rest:, s3:, rclone:, ...) is always other media.
- `password_file_problem`: a password file its group or others may read is refused when used
  (backup/restic.py); the same words are shown by `hostward config validate`.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath

from backup.errors import PasswordUnavailable
from backup.mirror import local_path
from backup.restic import check_password_file_mode_posix


def _existing(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return None


def same_media(primary_url: str, secondary_url: str) -> str:
    """Why the two repositories are not on different media ("" when they are, or unknown)."""
    p, s = local_path(primary_url), local_path(secondary_url)
    if p is None or s is None:
        return ""
    pp, sp = PurePath(os.path.abspath(p)), PurePath(os.path.abspath(s))
    if pp == sp or pp in sp.parents or sp in pp.parents:
        return f"{p} and {s} are one inside the other: both copies share one disk (BAK-2)"
    ep, es = _existing(Path(pp)), _existing(Path(sp))
    if ep is None or es is None:
        return ""
    try:
        same = os.stat(ep).st_dev == os.stat(es).st_dev
    except OSError:
        return ""
    if not same:
        return ""
    return (
        f"{p} and {s} are on the same filesystem ({ep} and {es}): one disk failure loses both "
        "copies; put the secondary on other media (BAK-2) / 两个备份仓库在同一磁盘上"
    )


def password_file_problem(repository: str, path: str) -> str:
    """Why the password file at `path` would be refused ("" when it would not, or is absent)."""
    if not path or not os.path.isfile(path) or os.name != "posix":
        return ""
    try:
        check_password_file_mode_posix(repository, path)
    except PasswordUnavailable as exc:
        return exc.detail
    return ""
