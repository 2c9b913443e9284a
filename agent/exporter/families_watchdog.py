"""The watchdog's families: jobs and checks set aside after a stop at their time or memory limit."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from agent.state import Snapshot
from agent.watchdog import CHECKS_RECORD, JOBS_RECORD


def watchdog_families(snapshot: Snapshot) -> Iterator[Metric]:
    for kind, label, what in ((JOBS_RECORD, "job", "job"), (CHECKS_RECORD, "check", "check")):
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
        record = snapshot.records.get(kind)
        for name, value in sorted((record.payload if record is not None else {}).items()):
            if isinstance(value, dict):
                until.add_metric((name,), float(value.get("until", 0)))
                stops.add_metric((name,), float(value.get("strikes", 0)))
        yield until
        yield stops
