"""Is a disk mounted where the config expects one? (POSIX; on Windows a missing drive is
simply a missing path.)

A mount point with nothing mounted is an ordinary empty directory on the root disk: a backup
written there fills the root disk, a source read there is silently empty. A path is judged
unmounted when one of its directories
- is listed as a mount point in /etc/fstab but not in /proc/self/mounts, or
- lies under /mnt, /media or /run/media, is empty, and has its parent's st_dev (no
  filesystem of its own), e.g. /mnt/backup-disk or /media/ops/USB-DISK.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import PurePosixPath

from common.frozen import frozen

MEDIA_ROOTS = ("/mnt", "/media", "/run/media")


@frozen
class MountTables:
    """Where the mount tables are read (fstab, the mounts now) and the roots removable media mount
    under; tests point them at their own files."""

    fstab: str = "/etc/fstab"
    mounts: str = "/proc/self/mounts"
    media_roots: tuple[str, ...] = MEDIA_ROOTS


def _unescape(field: str) -> str:
    """fstab and /proc/mounts write a space as \\040, a tab as \\011, a backslash as \\134."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _points(path: str) -> set[str] | None:
    """The mount points (second field) of an fstab-format file; None if it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(1 << 20)
    except OSError:
        return None
    points = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#") and fields[1].startswith("/"):
            points.add(os.path.normpath(_unescape(fields[1])))
    return points


def _ancestors(path: str) -> Iterable[str]:
    p = PurePosixPath(os.path.abspath(path))
    for candidate in (p, *p.parents):
        if str(candidate) != "/":
            yield str(candidate)


def unmounted(path: str, tables: MountTables | None = None) -> str:
    """Why `path` lies on a mount point with nothing mounted ("" when it does not)."""
    if os.name != "posix":
        return ""
    tables = tables or MountTables()
    mounted = _points(tables.mounts)
    listed = _points(tables.fstab) or set()
    for directory in _ancestors(path):
        if mounted is not None and directory in listed and directory not in mounted:
            return f"{directory} is a mount point in {tables.fstab} but nothing is mounted there"
        if mounted is not None and directory in mounted:
            return ""  # a filesystem is mounted here: whatever is above does not matter
        if _bare_media_dir(directory, tables.media_roots):
            return f"{directory} is an empty directory on its parent's disk: nothing is mounted there"
    return ""


def _bare_media_dir(directory: str, roots: tuple[str, ...]) -> bool:
    if not any(PurePosixPath(root) in PurePosixPath(directory).parents for root in roots):
        return False
    try:
        st = os.stat(directory)
        parent = os.stat(os.path.dirname(directory))
        empty = not any(os.scandir(directory))
    except OSError:
        return False
    return empty and st.st_dev == parent.st_dev
