"""Access-log families (ROOM-6, USB-3) from the stored "access_log" record.

- `hostward_access_failed_logins_total{source}`: failed logins archived, by source (wtmp/btmp,
  auth.log, journal, security). No user name is ever a label: one attacker trying ten thousand
  names must not make ten thousand series.
- `hostward_access_events_total{kind}`: every event archived, by kind (login, logout,
  failed_login, privilege, usb), every kind present from the first run.
- `hostward_access_last_run_timestamp_seconds`, `hostward_access_last_success_timestamp_seconds`
  and `hostward_access_source_error{source}` (1: that source could not be read last run).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.records.access import AccessLogRecord
from agent.records.base import StateError
from agent.state import Snapshot
from collectors.access import KINDS

log = logging.getLogger(__name__)
RECORD_KIND = AccessLogRecord.KIND
FAILED_SOURCES = ("wtmp", "btmp", "auth.log", "journal", "security")


def access_families(snapshot: Snapshot) -> Iterator[Metric]:
    try:
        stored = snapshot.get(AccessLogRecord)
    except StateError as exc:  # shown as hostward_state_record_valid{kind="access_log"} 0
        log.warning("%s", exc)
        return
    if stored is None:
        return
    record = stored.record
    counter = CounterMetricFamily(
        "hostward_access_failed_logins_total", "Failed logins archived, by source (no user names).",
        labels=("source",),
    )  # fmt: skip
    for source in sorted(set(FAILED_SOURCES) | {s for s in record.failed_total if s in FAILED_SOURCES}):
        counter.add_metric((source,), float(record.failed_total.get(source, 0)))
    yield counter
    events = CounterMetricFamily(
        "hostward_access_events_total", "Access events archived, by kind.", labels=("kind",)
    )
    for kind in KINDS:
        events.add_metric((kind,), float(record.events_total.get(kind, 0)))
    yield events
    for name, value, text in (
        ("hostward_access_last_run_timestamp_seconds", record.last_run,
         "When access logs were last collected."),
        ("hostward_access_last_success_timestamp_seconds", record.last_success,
         "When access logs were last collected with at least one source read."),
    ):  # fmt: skip
        if value is not None:
            yield GaugeMetricFamily(name, text + " (Unix time)", value=value)
    errors = GaugeMetricFamily(
        "hostward_access_source_error", "1 when an access-log source could not be read last run.",
        labels=("source",),
    )  # fmt: skip
    for name, row in sorted(record.sources.items()):
        if row.status in ("ok", "error"):
            errors.add_metric((name,), 1 if row.status == "error" else 0)
    yield errors
