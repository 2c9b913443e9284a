"""Compliance families from the stored "audit" record (never audits during a scrape).

`hostward_check_status{check,rule,severity}`: 1 pass, 0 fail, -1 error (could not determine).
Checks that do not apply to this host are left out, so an office PC exports a few dozen series.
A check proving several rules has one series per rule.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from agent.records import AuditRecord, StateError
from agent.state import Snapshot
from policies.result import STATUSES

log = logging.getLogger(__name__)
AUDIT_KIND = AuditRecord.KIND
STATUS_VALUE = {"pass": 1.0, "fail": 0.0, "error": -1.0}


def audit_families(snapshot: Snapshot) -> Iterator[Metric]:
    try:
        stored = snapshot.get(AuditRecord)
    except StateError as exc:
        log.warning("audit record unreadable: %s", exc)
        yield GaugeMetricFamily(
            "hostward_audit_record_valid", "0 if the stored audit record is unreadable.", value=0
        )
        return
    if stored is None:
        return
    results = stored.record.results
    yield GaugeMetricFamily(
        "hostward_audit_last_run_timestamp_seconds",
        "When the compliance audit last ran (Unix time).",
        value=stored.taken,
    )
    status = GaugeMetricFamily(
        "hostward_check_status",
        "Compliance check result per written rule: 1 pass, 0 fail, -1 error (could not determine). "
        "Checks not applicable to this host are not exported.",
        labels=("check", "rule", "severity"),
    )
    waived = GaugeMetricFamily(
        "hostward_check_waived",
        "1 if the check fails but a current, approved waiver covers it.",
        labels=("check",),
    )
    for r in results:
        if r.status not in STATUS_VALUE:
            continue
        for rule in r.rules or ("",):  # a rejected policy file proves no rule, yet must show
            status.add_metric((r.check, rule, r.severity), STATUS_VALUE[r.status])
        if r.waived:
            waived.add_metric((r.check,), 1.0)
    yield status
    yield waived
    counts = GaugeMetricFamily(
        "hostward_audit_checks", "Checks by result in the last audit.", labels=("status",)
    )
    for name in STATUSES:
        counts.add_metric((name,), float(sum(1 for r in results if r.status == name)))
    counts.add_metric(("waived",), float(sum(1 for r in results if r.waived)))
    yield counts
