"""Clocks and the arithmetic of "when is the next run".

The scheduler never calls `time` directly: it is given a `Clocks`, so tests drive the
monotonic and the wall clock apart (a suspend, a wall-clock jump) without sleeping.

- Interval jobs (`every`) count on the monotonic clock, which a wall-clock change never moves.
- Time-of-day jobs (`at: "HH:MM"`) aim at a local wall-clock time; the aim is turned into a
  monotonic deadline and recomputed whenever the wall clock jumps relative to the monotonic one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import field
from datetime import datetime, timedelta, tzinfo

from common.frozen import frozen


def _wait(event: threading.Event, seconds: float) -> bool:
    return event.wait(max(0.0, seconds))


@frozen
class Clocks:
    """The time sources of the scheduler. The defaults are the real ones.

    `wait(event, seconds)` blocks until `event` is set or `seconds` pass and returns whether
    the event is set. `tz` is the zone `at` times are read in; None means the system's.
    """

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    wait: Callable[[threading.Event, float], bool] = field(default=_wait)
    tz: tzinfo | None = None


def _local(ts: float, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(ts, tz) if tz is not None else datetime.fromtimestamp(ts).astimezone()


def latest_occurrence(now_wall: float, hour: int, minute: int, tz: tzinfo | None = None) -> float:
    """The most recent HH:MM local at or before `now_wall` (epoch seconds)."""
    now = _local(now_wall, tz)
    today = _occurrence(now, hour, minute, tz)
    if today <= now_wall:
        return today
    return _occurrence(now - timedelta(days=1), hour, minute, tz)


def next_occurrence(after_wall: float, hour: int, minute: int, tz: tzinfo | None = None) -> float:
    """The first HH:MM local strictly after `after_wall` (epoch seconds)."""
    base = _local(after_wall, tz)
    for days in range(3):
        candidate = _occurrence(base + timedelta(days=days), hour, minute, tz)
        if candidate > after_wall:
            return candidate
    raise AssertionError("unreachable: an occurrence exists within three days")  # pragma: no cover


def _occurrence(day: datetime, hour: int, minute: int, tz: tzinfo | None) -> float:
    if tz is not None:
        return day.replace(hour=hour, minute=minute, second=0, microsecond=0).timestamp()
    # The system zone: build a naive local time and let the C library pick the right offset.
    naive = datetime(day.year, day.month, day.day, hour, minute)
    return naive.timestamp()
