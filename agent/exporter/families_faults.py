"""Faults the agent survived: journal and state write errors (counted in memory by each process,
`agent.faults`; the daemon adds those CLI commands recorded in faults-cli.json), state database
recoveries (stored), and stored times from the future (the clock was set back)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent import faults
from agent.records.backup import BackupRecord
from agent.records.base import StateError
from agent.records.kinds import KINDS
from agent.records.watchdog import StateRecoveredRecord
from agent.state import Snapshot
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
    try:
        recovered = snapshot.get(StateRecoveredRecord)
    except StateError:  # counted in hostward_state_record_valid
        recovered = None
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
    try:
        backup = snapshot.get(BackupRecord)
    except StateError:  # counted in hostward_state_record_valid
        backup = None
    for entry in backup.record.repositories.values() if backup is not None else ():
        stamps = [entry.last_success, entry.last_attempt]
        stamps += [part.time for part in (entry.check, entry.drill) if part is not None]
        counts["backup"] += sum(t is not None and is_future(t, wall) for t in stamps)
    family = GaugeMetricFamily(
        "hostward_stored_timestamps_in_future",
        "Stored times more than 5 minutes ahead of the clock (it ran ahead, then was set back).",
        labels=("source",))
    for source, count in sorted(counts.items()):
        family.add_metric((source,), count)
    yield family


def record_families(snapshot: Snapshot) -> Iterator[Metric]:
    """`hostward_state_record_valid{kind}`: 0 when a stored record of a known kind is malformed
    (a field missing or of the wrong type: the reason is logged); its families are then left out."""
    family = GaugeMetricFamily(
        "hostward_state_record_valid",
        "1 if the stored record of this kind reads as its type, 0 if it is malformed.",
        labels=("kind",))
    for kind in sorted(snapshot.records):
        record_type = KINDS.get(kind)
        if record_type is None:
            continue
        try:
            snapshot.get(record_type)
            family.add_metric((kind,), 1.0)
        except StateError:
            family.add_metric((kind,), 0.0)
    yield family
