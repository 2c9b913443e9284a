"""Faults the agent survived: journal and state write errors (counted in memory by each process,
`agent.faults`; the daemon adds those CLI commands recorded in faults-cli.json), state database
recoveries (stored), and stored times from the future (the clock was set back)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent import faults
from agent.state import Snapshot
from agent.state_recovery import RECORD_KIND as RECOVERED_KIND
from collectors.clock import is_future

# kind -> (counter, last-error gauge, what failed)
_FAMILIES = {
    "journal_write": ("hostward_journal_write_errors_total",
                      "hostward_journal_last_write_error_timestamp_seconds",
                      "journal writes that failed (an entry not written, or its head)"),
    "state_write": ("hostward_state_write_errors_total",
                    "hostward_state_last_write_error_timestamp_seconds",
                    "state database writes that failed"),
}  # fmt: skip


def fault_families(snapshot: Snapshot) -> Iterator[Metric]:
    _, found = faults.snapshot()
    for kind in faults.KINDS:
        counter, last, doc = _FAMILIES[kind]
        fault = found.get(kind)
        yield CounterMetricFamily(
            counter, f"Write errors since the agent started, with those of CLI commands: {doc} "
            "(a full disk, an I/O error).",
            value=fault.count if fault else 0)
        if fault is not None:
            yield GaugeMetricFamily(
                last, f"When the last of the {doc} happened (Unix time).", value=fault.last)
    recovered = snapshot.records.get(RECOVERED_KIND)
    if recovered is not None:
        yield GaugeMetricFamily(
            "hostward_state_recovered_timestamp_seconds",
            "When a damaged state database was set aside and a fresh one started (Unix time).",
            value=recovered.taken)


def future_families(snapshot: Snapshot, now: Callable[[], float] = time.time) -> Iterator[Metric]:
    """`hostward_stored_timestamps_in_future{source}`: stored times ahead of the clock by more
    than the tolerance; such times are stale (alerts treat them as too old)."""
    wall = now()
    counts = {"jobs": 0, "records": 0, "backup": 0}
    for status in snapshot.jobs.values():
        counts["jobs"] += sum(is_future(t, wall) for t in (status.last_success, status.last.started))
    for record in snapshot.records.values():
        counts["records"] += is_future(record.taken, wall)
    backup = snapshot.records.get("backup")
    repos = backup.payload.get("repositories") if backup is not None else None
    for entry in (repos.values() if isinstance(repos, Mapping) else ()):
        if isinstance(entry, Mapping):
            stamps = [entry.get("last_success"), entry.get("last_attempt")]
            stamps += [part.get("time") for part in (entry.get("check"), entry.get("drill"))
                       if isinstance(part, Mapping)]
            counts["backup"] += sum(isinstance(t, int | float) and is_future(float(t), wall) for t in stamps)
    family = GaugeMetricFamily(
        "hostward_stored_timestamps_in_future",
        "Stored times more than 5 minutes ahead of the clock (it ran ahead, then was set back).",
        labels=("source",))
    for source, count in sorted(counts.items()):
        family.add_metric((source,), count)
    yield family
