"""Where host reading differs by platform (Windows vs POSIX), for collectors/host.py.

- Filesystem sizes: `os.statvfs` on POSIX; on Windows (no statvfs) psutil's
  GetDiskFreeSpaceExW. Windows has no inode counts (reported as 0, "none") and no blocks
  reserved for an administrator (free == avail).
- Parts a platform does not provide are *unavailable*, not errors: `Unavailable` carries the
  reason, and `collect_host` records it in `HostSnapshot.unavailable` instead of `errors`, so
  the collect job is not marked partial every 15 s for something that cannot be read there.
  On Windows, psutil reads the load average and the swap usage through performance counters
  (PDH); where they are disabled or missing (`lodctr /R` restores them; Wine has none) psutil
  raises RuntimeError("PdhAddEnglishCounterW failed ..."): that is unavailability. Any other
  failure stays an error.
- The Windows load average is psutil's emulation, sampled every 5 s from its first call in a
  process: that first call returns a meaningless (0, 0, 0), so it is unavailable, not zero.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NamedTuple

import psutil

if TYPE_CHECKING:
    from psutil._ntuples import sswap

WINDOWS = sys.platform == "win32"


class Unavailable(Exception):
    """This platform/host does not provide this part (a reason, never evidence of health)."""


class Usage(NamedTuple):
    """A filesystem's size, free and available bytes, and inodes (0 where the platform has none)."""

    size: int
    free: int
    avail: int
    files: int
    files_free: int


def disk_usage(mountpoint: str) -> Usage:
    if WINDOWS:
        u = psutil.disk_usage(mountpoint)
        return Usage(u.total, u.free, u.free, 0, 0)
    st = os.statvfs(mountpoint)
    return Usage(
        st.f_blocks * st.f_frsize, st.f_bfree * st.f_frsize, st.f_bavail * st.f_frsize, st.f_files, st.f_ffree
    )


def skip_partition(opts: str) -> bool:
    """Windows drives that are no filesystems to watch: CD/DVD drives (empty or read-only media)."""
    return WINDOWS and "cdrom" in opts.split(",")


def _pdh_missing(exc: BaseException) -> bool:
    return WINDOWS and isinstance(exc, RuntimeError) and "Pdh" in str(exc)


_load_started = False


def load_average() -> tuple[float, float, float]:
    global _load_started
    try:
        values = psutil.getloadavg()
    except RuntimeError as exc:
        if _pdh_missing(exc):
            raise Unavailable(f"no performance counters for the load average ({exc})") from exc
        raise
    if WINDOWS and not _load_started:
        _load_started = True
        raise Unavailable("Windows load average: sampling starts with this reading, none yet")
    return values


def swap_memory() -> sswap:
    try:
        return psutil.swap_memory()
    except RuntimeError as exc:
        if _pdh_missing(exc):
            raise Unavailable(f"no performance counters for the page file ({exc})") from exc
        raise
