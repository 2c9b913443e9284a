"""The C library of this process (Linux), for the few calls Python does not wrap: prctl (the
runner's children die with the agent) and malloc_trim (collectors/system/heap.py).

Loaded at its first use, from the process's own symbols (`CDLL(None)`: no `ldconfig -p` run,
as ctypes.util.find_library does), so that a process that never needs it never imports ctypes.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes


@functools.cache
def libc() -> ctypes.CDLL | None:
    """The C library, or None off Linux (or where it cannot be opened)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
