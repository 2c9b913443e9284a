"""Compliance families from the stored "audit" record (never audits during a scrape).

`hostward_check_status{check,rule,severity}`: 1 pass, 0 fail, -1 error (could not determine).
A check proving several rules has one series per rule.
`hostward_check_not_applicable{check,rule,severity,reason}` = 1 for checks that did not apply,
with the reason class: `role` (role not covered or exempt), `not_configured` (a setting the check
needs is missing) or `offline_root` (needs the running system). Checks for another platform are
left out, so a host without a rule and a host where it was not judged can be told apart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from agent.records.audit import AuditRecord
from agent.records.base import StateError
from agent.state import Snapshot
from policies.result import STATUSES, na_class

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
    not_applicable = GaugeMetricFamily(
        "hostward_check_not_applicable",
        "1 for a check that did not apply, by reason class: role (role not covered), "
        "not_configured (a setting it needs is missing), offline_root (needs the running system).",
        labels=("check", "rule", "severity", "reason"),
    )
    for r in results:
        why = na_class(r)
        if why is not None and why != "platform":
            for rule in r.rules or ("",):
                not_applicable.add_metric((r.check, rule, r.severity, why), 1.0)
        if r.status not in STATUS_VALUE:
            continue
        for rule in r.rules or ("",):  # a rejected policy file proves no rule, yet must show
            status.add_metric((r.check, rule, r.severity), STATUS_VALUE[r.status])
        if r.waived:
            waived.add_metric((r.check,), 1.0)
    yield status
    yield waived
    yield not_applicable
    counts = GaugeMetricFamily(
        "hostward_audit_checks", "Checks by result in the last audit.", labels=("status",)
    )
    for name in STATUSES:
        counts.add_metric((name,), float(sum(1 for r in results if r.status == name)))
    counts.add_metric(("waived",), float(sum(1 for r in results if r.waived)))
    yield counts
