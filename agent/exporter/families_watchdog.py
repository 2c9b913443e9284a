"""The watchdog's families: jobs and checks set aside after a stop at their time or memory limit."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from agent.records.base import StateError
from agent.records.watchdog import SetAside, WatchdogChecksRecord, WatchdogJobsRecord
from agent.state import Snapshot

log = logging.getLogger(__name__)


Kind = type[WatchdogJobsRecord] | type[WatchdogChecksRecord]


def _entries(snapshot: Snapshot, kind: Kind) -> Mapping[str, SetAside]:
    try:
        stored = snapshot.get(kind)
    except StateError as exc:  # shown as hostward_state_record_valid{kind} 0
        log.warning("%s", exc)
        return {}
    return stored.record.entries if stored is not None else {}


def watchdog_families(snapshot: Snapshot) -> Iterator[Metric]:
    kinds = ((WatchdogJobsRecord, "job", "job"), (WatchdogChecksRecord, "check", "check"))
    for kind, label, what in kinds:
        until = GaugeMetricFamily(
            f"hostward_{what}_cooldown_until_timestamp_seconds",
            f"Until when the {what} is set aside after a stop at its time or memory limit (Unix time).",
            labels=(label,),
        )
        stops = GaugeMetricFamily(
            f"hostward_{what}_watchdog_stops",
            f"Times in a row the {what} was stopped at its time or memory limit.",
            labels=(label,),
        )
        for name, entry in sorted(_entries(snapshot, kind).items()):
            until.add_metric((name,), entry.until)
            stops.add_metric((name,), float(entry.strikes))
        yield until
        yield stops
