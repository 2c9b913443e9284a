"""The set-asides as /metrics and the status page read them: from a state snapshot, never written."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from agent.records.base import StateError
from agent.records.watchdog import SetAside
from agent.state import Snapshot
from agent.watchdog.book import RECORDS, What

log = logging.getLogger(__name__)


def stored(snapshot: Snapshot, what: What) -> Mapping[str, SetAside]:
    """Every stored set-aside of `what`, its cool-down over or not (the strikes still count).
    An unreadable record reads as none (logged; /metrics shows hostward_state_record_valid 0)."""
    try:
        found = snapshot.get(RECORDS[what])
    except StateError as exc:
        log.warning("%s", exc)
        return {}
    return found.record.entries if found is not None else {}


def set_aside_until(snapshot: Snapshot, what: What, now_wall: float) -> dict[str, float]:
    """{name: until (Unix time)} for those of `what` still set aside at `now_wall`."""
    return {name: entry.until for name, entry in stored(snapshot, what).items() if entry.until > now_wall}
