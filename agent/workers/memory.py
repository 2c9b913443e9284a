"""A worker's memory: its cap (set by the worker on itself, before it imports the job) and the
figures it reports (resident memory now and at its peak).

- Linux/POSIX: the soft RLIMIT_AS (address space). Only the soft limit: a command the job runs
  may still set its own cap (limits.check_memory_max_bytes) up to the hard limit. Commands the
  worker starts inherit the cap unless they set their own.
- Windows: a Job Object with JOB_OBJECT_LIMIT_PROCESS_MEMORY (committed memory per process) and
  KILL_ON_JOB_CLOSE: when the worker dies, so does every process it started (restic, ssh). The
  job handle is kept for the life of the worker.
"""

from __future__ import annotations

import sys
from typing import Any

_held: list[Any] = []  # the Windows job handle: closing it would kill the worker's children


def apply_cap(limit: int) -> str:
    """Cap this process at `limit` bytes (0: no cap). Returns "" or why the cap is not set."""
    if limit <= 0:
        return ""
    if sys.platform == "win32":
        return _windows_cap(limit)
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = limit if hard == resource.RLIM_INFINITY else min(hard, limit)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ValueError, OSError) as exc:
        return f"cannot cap the address space: {exc}"
    return ""


def _windows_cap(limit: int) -> str:  # pragma: no cover - Windows only (tests/windows)
    try:
        import win32api
        import win32job
    except ImportError as exc:
        return f"cannot cap the memory: pywin32 is missing ({exc})"
    try:
        job = win32job.CreateJobObject(None, "")
        info = win32job.QueryInformationJobObject(job, win32job.JobObjectExtendedLimitInformation)
        info["BasicLimitInformation"]["LimitFlags"] |= (
            win32job.JOB_OBJECT_LIMIT_PROCESS_MEMORY | win32job.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        )
        info["ProcessMemoryLimit"] = limit
        win32job.SetInformationJobObject(job, win32job.JobObjectExtendedLimitInformation, info)
        win32job.AssignProcessToJobObject(job, win32api.GetCurrentProcess())
    except Exception as exc:  # pywintypes.error: an older Windows without nested jobs
        return f"cannot cap the memory with a job object: {exc}"
    _held.append(job)
    return ""


def resident_bytes() -> int:
    """This process's resident memory now (0 when unknown)."""
    if sys.platform != "linux":
        return _psutil_memory("rss")
    import os

    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_bytes() -> int:
    """This process's peak resident memory so far (0 when unknown). Linux: VmHWM, not
    ru_maxrss, which keeps the daemon's peak across the fork+exec that started the worker."""
    if sys.platform != "linux":
        return _psutil_memory("peak_wset")
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _psutil_memory(field: str) -> int:
    try:
        import psutil

        return int(getattr(psutil.Process().memory_info(), field, 0))
    except Exception:  # psutil missing or the field unknown on this platform: figures only
        return 0
