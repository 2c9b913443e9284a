"""Small helpers probes share: ages, name matching, evidence formatting."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from datetime import UTC, datetime


def age_days(now: datetime, then: datetime) -> float:
    """Days from `then` to `now`; a naive `then` is read as this machine's local time."""
    if then.tzinfo is None:
        then = then.astimezone()
    return round((now - then).total_seconds() / 86400, 2)


def epoch_to_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def matches(name: str, patterns: Iterable[str]) -> str | None:
    """The first glob (case-insensitive) that `name` matches, or None."""
    low = name.lower()
    for pattern in patterns:
        if fnmatch.fnmatchcase(low, pattern.lower()):
            return pattern
    return None


def denied(names: Iterable[str], deny: Iterable[str], allow: Iterable[str]) -> dict[str, str]:
    """{name: matching deny pattern} for names denied and not allowed."""
    deny, allow = tuple(deny), tuple(allow)
    out = {}
    for name in names:
        pattern = matches(name, deny)
        if pattern is not None and matches(name, allow) is None:
            out[name] = pattern
    return out
