"""Faults the agent survived but must not hide: counted per process, shown on /metrics.

A journal line or a state write that failed (a full disk, an I/O error) cannot be stored where
it failed, so it is counted here, in memory: `note("journal_write", message)`. The exporter
renders every kind in `KINDS` (0 until the first fault) and the time of the last one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

KINDS = ("journal_write", "state_write")


@dataclass(frozen=True)
class Fault:
    """How many faults of a kind, when the last happened (Unix time) and what it said."""

    count: int
    last: float
    message: str


_lock = threading.Lock()
_faults: dict[str, Fault] = {}
_version = 0


def note(kind: str, message: str, now: float | None = None) -> Fault:
    """Count one fault of `kind` (one of KINDS)."""
    global _version
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}")
    with _lock:
        previous = _faults.get(kind)
        fault = Fault((previous.count if previous else 0) + 1, time.time() if now is None else now, message)
        _faults[kind] = fault
        _version += 1
        return fault


def snapshot() -> tuple[int, dict[str, Fault]]:
    """(version, faults by kind): the version changes with every fault (the render cache key)."""
    with _lock:
        return _version, dict(_faults)
