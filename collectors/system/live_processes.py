"""The processes running on this host now, through psutil: the same answer on Linux and Windows.

Never signals a process to learn whether it lives: on Windows `os.kill(pid, 0)` is not a probe,
0 is CTRL_C_EVENT there, sent to the console process group `pid` (a restic started in its own
group is interrupted); any other number terminates the process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.frozen import frozen

if TYPE_CHECKING:
    import psutil


@frozen
class LiveProcess:
    """`name` without a Windows `.exe`; None for either field when the OS would not tell us."""

    pid: int
    name: str | None
    started: float | None  # Unix time


def live_process(pid: int) -> LiveProcess | None:
    """The process `pid` if one runs now, else None (it ended, or never was)."""
    if pid <= 0:
        return None
    import psutil  # here: a command that finds no lock (a restore) does not load psutil

    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        return LiveProcess(pid, None, None)
    try:
        with proc.oneshot():
            name: str | None = _name(proc)
            started: float | None = proc.create_time()
    except psutil.NoSuchProcess:
        return None
    except (psutil.AccessDenied, OSError):
        name, started = None, None
    if not proc.is_running():  # gone, or the PID was reused between the two calls
        return None
    return LiveProcess(pid, name, started)


def _name(proc: psutil.Process) -> str | None:
    import psutil

    try:
        name = proc.name()
    except (psutil.AccessDenied, OSError):  # Wine: WinError 87 from NtQuerySystemInformation
        return None
    return name[:-4] if name.lower().endswith(".exe") else name
