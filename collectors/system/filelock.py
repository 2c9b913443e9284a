"""One advisory lock on an open file, on both platforms; closing the file (or the death of the
process) releases it. Used by the journal, the enforcement lock and the shared fault counts.

POSIX: flock, shared or exclusive. Windows: msvcrt.locking on the file's first byte, which is
always exclusive (Windows has no shared byte lock there); a waiting caller polls for it, as
flock waits, instead of msvcrt's own ten tries and an error.
"""

from __future__ import annotations

import sys
import time

POLL = 0.2  # seconds between tries on Windows

if sys.platform == "win32":  # pragma: no cover - proven under Wine (tests/windows)
    import msvcrt

    def lock(fd: int, exclusive: bool = True, wait: bool = True) -> bool:
        """Lock `fd`; False when `wait` is False and another handle holds the lock."""
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return True
            except OSError:
                if not wait:
                    return False
                time.sleep(POLL)

else:
    import fcntl

    def lock(fd: int, exclusive: bool = True, wait: bool = True) -> bool:
        """Lock `fd`; False when `wait` is False and another process holds the lock."""
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True
