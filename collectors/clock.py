"""Stored times from the future: how far ahead a stored timestamp may be before it is stale.

A wall clock that ran ahead (a dead RTC battery reading 2038, a wrong NTP server) and is then
corrected leaves timestamps in the future: last runs, last successes, outage starts. Taken at
face value they silence whatever compares against them ("done already", "not old yet") until
the clock catches up, possibly for years. Every reader of a stored time that gates a decision
asks `is_future(stamp, now)` and treats such a stamp as stale.
"""

from __future__ import annotations

FUTURE_TOLERANCE = 300.0  # seconds a stored time may lie ahead (clock steps, NTP corrections)


def is_future(stamp: float | None, now: float, tolerance: float = FUTURE_TOLERANCE) -> bool:
    """Whether `stamp` lies more than `tolerance` seconds after `now`."""
    return stamp is not None and stamp - now > tolerance
