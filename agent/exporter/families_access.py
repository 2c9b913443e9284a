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

from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.state import Snapshot
from collectors.access import KINDS

RECORD_KIND = "access_log"
FAILED_SOURCES = ("wtmp", "btmp", "auth.log", "journal", "security")


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def access_families(snapshot: Snapshot) -> Iterator[Metric]:
    record = snapshot.records.get(RECORD_KIND)
    if record is None or not isinstance(record.payload, dict):
        return
    payload = dict(record.payload)
    failed = payload.get("failed_total") if isinstance(payload.get("failed_total"), dict) else {}
    assert isinstance(failed, dict)
    counter = CounterMetricFamily(
        "hostward_access_failed_logins_total", "Failed logins archived, by source (no user names).",
        labels=("source",),
    )  # fmt: skip
    for source in sorted(set(FAILED_SOURCES) | {s for s in failed if s in FAILED_SOURCES}):
        counter.add_metric((source,), _num(failed.get(source, 0)))
    yield counter
    kinds = payload.get("events_total") if isinstance(payload.get("events_total"), dict) else {}
    assert isinstance(kinds, dict)
    events = CounterMetricFamily(
        "hostward_access_events_total", "Access events archived, by kind.", labels=("kind",)
    )
    for kind in KINDS:
        events.add_metric((kind,), _num(kinds.get(kind, 0)))
    yield events
    for name, key, text in (
        ("hostward_access_last_run_timestamp_seconds", "last_run", "When access logs were last collected."),
        ("hostward_access_last_success_timestamp_seconds", "last_success",
         "When access logs were last collected with at least one source read."),
    ):  # fmt: skip
        if isinstance(payload.get(key), int | float):
            yield GaugeMetricFamily(name, text + " (Unix time)", value=_num(payload[key]))
    sources = payload.get("sources") if isinstance(payload.get("sources"), dict) else {}
    assert isinstance(sources, dict)
    errors = GaugeMetricFamily(
        "hostward_access_source_error", "1 when an access-log source could not be read last run.",
        labels=("source",),
    )  # fmt: skip
    for name, row in sorted(sources.items()):
        if isinstance(row, dict) and row.get("status") in ("ok", "error"):
            errors.add_metric((str(name),), 1 if row.get("status") == "error" else 0)
    yield errors
