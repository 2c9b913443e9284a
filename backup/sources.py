"""Can every backup source be read? Checked before each backup, so none is lost in silence.

restic 0.14 skips a missing source with a warning and exits 0, stores a symbolic link given
as a source as the link itself (not what it points to), and backs up the empty directory of an
unmounted disk as if it were the data. Each of these would be an "ok" backup of nothing. So
every source is looked at first; one that cannot be read makes the run `partial` and is named,
and only the readable ones are given to restic (a hung network mount could hang restic too).

A source is unreadable when it is missing, permission is denied (to the directory listing or
the file's content), it is a symbolic link, it is neither a directory nor a regular file (a
socket, a device), the disk it should be on is not mounted (backup/mounts.py), or the
filesystem does not answer (a dangling network or FUSE mount: ENOTCONN, ESTALE, EIO, or no
answer within `timeout`).
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Sequence

from backup.mounts import MountTables, unmounted
from common.frozen import frozen

_DEAD_MOUNT = {getattr(errno, name, -1) for name in ("ENOTCONN", "ESTALE", "EIO", "EHOSTDOWN")}


@frozen
class SourceProblem:
    """A backup source that cannot be read, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def check_source(path: str, tables: MountTables | None = None) -> str:
    """Why `path` cannot be backed up ("" when it can)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "missing / 不存在"
    except OSError as exc:
        return _why(exc)
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        return f"is a symbolic link (to {target}): restic would store the link, not the data; list the target"
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        return "is neither a directory nor a regular file"
    try:
        if stat.S_ISDIR(st.st_mode):
            with os.scandir(path) as entries:
                next(entries, None)
        else:
            with open(path, "rb") as fh:
                fh.read(1)
    except OSError as exc:
        return _why(exc)
    why = unmounted(path, tables)
    return f"disk not mounted: {why}" if why else ""


def _why(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied / 无权读取"
    if exc.errno in _DEAD_MOUNT:
        return f"does not answer ({os.strerror(exc.errno or 0)}): a dangling mount?"
    return f"cannot be read: {exc.strerror or exc}"


def check_sources(
    sources: Sequence[str], timeout: float = 20.0, tables: MountTables | None = None
) -> tuple[SourceProblem, ...]:
    """The sources that cannot be read, each with its reason. A source whose check has not
    finished after `timeout` seconds (a hung network mount) is reported as not answering;
    its thread is left behind as a daemon (a blocked system call cannot be cancelled)."""
    results: dict[str, str] = {}

    def work() -> None:
        for path in sources:
            results[path] = check_source(path, tables)

    thread = threading.Thread(target=work, name="backup-source-check", daemon=True)
    thread.start()
    thread.join(timeout)
    problems = []
    for path in sources:
        if path not in results:
            problems.append(SourceProblem(path, f"does not answer within {timeout:.0f} s: a hung mount?"))
        elif results[path]:
            problems.append(SourceProblem(path, results[path]))
    return tuple(problems)
