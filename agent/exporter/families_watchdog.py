"""The watchdog's families: jobs and checks set aside after a stop at their time or memory limit."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from agent.state import Snapshot
from agent.watchdog import What, stored


def watchdog_families(snapshot: Snapshot) -> Iterator[Metric]:
    whats: tuple[What, ...] = ("job", "check")
    for what in whats:
        until = GaugeMetricFamily(
            f"hostward_{what}_cooldown_until_timestamp_seconds",
            f"Until when the {what} is set aside after a stop at its time or memory limit (Unix time).",
            labels=(what,),
        )
        stops = GaugeMetricFamily(
            f"hostward_{what}_watchdog_stops",
            f"Times in a row the {what} was stopped at its time or memory limit.",
            labels=(what,),
        )
        for name, entry in sorted(stored(snapshot, what).items()):
            until.add_metric((name,), entry.until)
            stops.add_metric((name,), float(entry.strikes))
        yield until
        yield stops
