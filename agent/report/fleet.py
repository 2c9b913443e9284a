"""The fleet's compliance at one point in time, read back from Prometheus.

Hosts are Prometheus targets of one scrape job, identified by `instance`; any other target
labels (site, role, ... from file-based discovery) are shown beside it. The hosts expected at a
time are those scraped in the `seen_window` before it, plus those scraped now: a host that was
down (`up == 0`), not scraped, or not audited at that time is "no data", never passing.

Against a central Prometheus that federates site Prometheus servers (playbooks/central.yml), a
host whose series stopped because its whole site cannot be reached (`up{job="hostward-federate",
site} == 0`) is "site unreachable", not a host gone missing.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import Literal

from agent.report import fleet_rules
from agent.report.prometheus import PrometheusClient, Sample
from common.frozen import frozen

HostState = Literal["non_compliant", "errors", "no_data", "compliant"]
NoData = Literal["", "down", "absent", "site_unreachable", "no_audit"]
CheckStatus = Literal["pass", "fail", "error", "waived"]
STATE_ORDER: tuple[HostState, ...] = ("non_compliant", "errors", "no_data", "compliant")
CHECK_STATUSES: tuple[CheckStatus, ...] = ("pass", "fail", "error", "waived")
_STATUS_OF_VALUE: dict[float, CheckStatus] = {1.0: "pass", 0.0: "fail", -1.0: "error"}
_JOB = re.compile(r"^[A-Za-z0-9_.:/-]{1,200}$")
_OWN_LABELS = {"__name__", "job", "instance"}
FEDERATE_JOB = "hostward-federate"  # the central Prometheus' job scraping each site's /federate


@frozen
class HostResult:
    """One host of the fleet: its overall state (and why it has no data), each check's status and
    rules, and when it was last audited (Unix time; None: unknown)."""

    instance: str
    labels: Mapping[str, str]  # target labels besides job and instance
    state: HostState
    no_data: NoData = ""
    checks: Mapping[str, CheckStatus] = field(default_factory=dict)  # check id -> status
    rules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # check id -> rule ids
    audited: float | None = None

    @property
    def name(self) -> str:
        """The `host` target label (file-based discovery from the inventory sets it), else instance."""
        return self.labels.get("host") or self.instance

    def count(self, status: CheckStatus) -> int:
        return sum(1 for s in self.checks.values() if s == status)


@frozen
class RuleRow:
    """One written rule across the fleet: the hosts where it passed, failed, erred, was waived or was
    not applicable."""

    rule: str
    passing: tuple[str, ...]  # hosts (name) where every check of the rule passed
    failing: Mapping[str, tuple[str, ...]]  # host name -> failing check ids
    erroring: Mapping[str, tuple[str, ...]]
    waived: Mapping[str, tuple[str, ...]]
    # host name -> "check: reason class" of checks that did not apply there (role,
    # not_configured, offline_root): a host where the rule was not judged, told apart from one
    # without the rule
    not_applicable: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@frozen
class FleetReport:
    """The fleet's compliance at `at` (Unix time), read from the Prometheus at `source` for scrape
    job `job`: host by host and rule by rule."""

    at: float
    source: str
    job: str
    hosts: tuple[HostResult, ...]
    rules: tuple[RuleRow, ...]

    def hosts_in(self, state: HostState) -> list[HostResult]:
        return [h for h in self.hosts if h.state == state]

    def results(self, status: CheckStatus) -> int:
        return sum(h.count(status) for h in self.hosts)


def check_job(job: str) -> str:
    """The scrape job name, safe to put in a PromQL string; ValueError otherwise."""
    if not _JOB.match(job):
        raise ValueError(f"not a scrape job name: {job!r}")
    return job


def gather(
    client: PrometheusClient,
    at: float,
    job: str = "hostward",
    seen_window: str = "7d",
    now: float | None = None,
) -> FleetReport:
    """Query Prometheus at `at` and judge each host. Raises PrometheusError."""
    sel = f'{{job="{check_job(job)}"}}'
    now = time.time() if now is None else now
    up = client.query(f"up{sel}", at)
    # A subquery at 5-minute steps: a week of raw samples of a large fleet would pass
    # Prometheus' per-query sample limit; 2016 steps per host stay far below it.
    expected = client.query(f"max_over_time(up{sel}[{seen_window}:5m])", at)
    # The subquery's steps sit on whole 5 minutes: a host first scraped since the last one is
    # only in the raw samples of the last minutes.
    expected += client.query(f"max_over_time(up{sel}[10m])", at)
    if at < now - 60:
        expected += client.query(f"up{sel}", now)
    status = client.query(f"hostward_check_status{sel}", at)
    waived = client.query(f"hostward_check_waived{sel} == 1", at)
    audited = client.query(f"hostward_audit_last_run_timestamp_seconds{sel}", at)
    sites = client.query(f'up{{job="{FEDERATE_JOB}"}} == 0', at)
    cut_off = {s.labels["site"] for s in sites if s.labels.get("site")}
    hosts = judge(up, expected, status, waived, audited, cut_off)
    answers = {name: client.query(q, at) for name, q in fleet_rules.queries(check_job(job)).items()}
    with_data = {h.instance: _label(h) for h in hosts if h.no_data in ("", "no_audit")}
    extra = fleet_rules.operational_verdicts(answers, at, with_data)
    na = not_applicable(client.query(f"hostward_check_not_applicable{sel}", at), with_data)
    return FleetReport(at, client.base_url, job, hosts, by_rule(hosts, extra, na))


def not_applicable(samples: list[Sample], labels: Mapping[str, str]) -> dict[str, dict[str, list[str]]]:
    """rule -> host label -> ["check: reason", ...] for hosts with data (`labels`)."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for s in samples:
        label = labels.get(s.labels.get("instance", ""))
        if label is not None and s.value == 1.0:
            entry = f"{s.labels.get('check', '')}: {s.labels.get('reason', '')}"
            out[s.labels.get("rule", "")][label].append(entry)
    return out


def judge(
    up: list[Sample],
    expected: list[Sample],
    status: list[Sample],
    waived: list[Sample],
    audited: list[Sample],
    unreachable_sites: frozenset[str] | set[str] = frozenset(),
) -> tuple[HostResult, ...]:
    """Hosts from the query answers, worst state first, then by name."""
    labels: dict[str, dict[str, str]] = {}
    for sample in (*expected, *up):  # the labels at the report time win
        labels[sample.labels.get("instance", "")] = _target_labels(sample.labels)
    up_at = {s.labels.get("instance", ""): s.value for s in up}
    waived_at = {(s.labels.get("instance", ""), s.labels.get("check", "")) for s in waived}
    audited_at = {s.labels.get("instance", ""): s.value for s in audited}
    checks: dict[str, dict[str, CheckStatus]] = defaultdict(dict)
    rules: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for s in status:
        instance, check = s.labels.get("instance", ""), s.labels.get("check", "")
        verdict = _STATUS_OF_VALUE.get(s.value, "error")
        if verdict == "fail" and (instance, check) in waived_at:
            verdict = "waived"
        checks[instance][check] = verdict
        rules[instance][check].add(s.labels.get("rule", ""))
    hosts = []
    for instance in labels:
        state: HostState
        no_data: NoData = ""
        if labels[instance].get("site", "") in unreachable_sites:
            # Federated samples carry the site's timestamps, so Prometheus never marks them stale:
            # a cut-off site's last `up` lingers for the 5-minute lookback and proves nothing.
            state, no_data = "no_data", "site_unreachable"
        elif instance not in up_at:
            state, no_data = "no_data", "absent"
        elif up_at[instance] != 1.0:
            state, no_data = "no_data", "down"
        elif not checks.get(instance):
            state, no_data = "no_data", "no_audit"
        elif "fail" in checks[instance].values():
            state = "non_compliant"
        elif "error" in checks[instance].values():
            state = "errors"
        else:
            state = "compliant"
        own = checks.get(instance, {}) if not no_data or no_data == "no_audit" else {}
        hosts.append(
            HostResult(
                instance, labels[instance], state, no_data, dict(own),
                {c: tuple(sorted(rules[instance][c])) for c in own}, audited_at.get(instance),
            )
        )  # fmt: skip
    hosts.sort(key=lambda h: (STATE_ORDER.index(h.state), h.name, h.instance))
    return tuple(hosts)


def by_rule(
    hosts: Iterable[HostResult],
    extra: Mapping[str, Mapping[str, Mapping[str, list[str]]]] | None = None,
    na: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> tuple[RuleRow, ...]:
    """Per written rule, which hosts pass, fail, cannot tell or are waived (hosts with data only).
    `extra`: verdicts of operational signals (BAK-*, ROOM-*: agent.report.fleet_rules)."""
    verdicts: dict[str, dict[str, dict[str, list[str]]]] = defaultdict(lambda: defaultdict(dict))
    for host in hosts:
        for check, rule_ids in host.rules.items():
            for rule in rule_ids:
                verdicts[rule][_label(host)].setdefault(host.checks[check], []).append(check)
    for rule, per_host in (extra or {}).items():
        for label, by_status in per_host.items():
            for verdict, signals in by_status.items():
                verdicts[rule][label].setdefault(verdict, []).extend(signals)
    na = na or {}
    rows = []
    for rule in (*verdicts, *(r for r in na if r not in verdicts)):
        per_host = verdicts.get(rule, {})
        rows.append(
            RuleRow(
                rule,
                tuple(sorted(i for i, v in per_host.items() if set(v) == {"pass"})),
                {i: tuple(sorted(v["fail"])) for i, v in sorted(per_host.items()) if "fail" in v},
                {i: tuple(sorted(v["error"])) for i, v in sorted(per_host.items()) if "error" in v},
                {i: tuple(sorted(v["waived"])) for i, v in sorted(per_host.items()) if "waived" in v},
                {i: tuple(sorted(v)) for i, v in sorted(na.get(rule, {}).items())},
            )
        )
    return tuple(rows)


def _label(host: HostResult) -> str:
    """How the rule table names a host: "pc-bad (10.0.0.7:9877)", or the instance alone."""
    return host.instance if host.name == host.instance else f"{host.name} ({host.instance})"


def _target_labels(labels: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(labels.items()) if k not in _OWN_LABELS}
