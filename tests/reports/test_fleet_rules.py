"""Every catalogue rule in the fleet report's "by rule" view: BAK-* from the backup metrics,
ROOM-* from outages, UPS alarms, the daily record job, the journal and the inventory."""

from __future__ import annotations

import re
from pathlib import Path

from reports_kit import Fleet

from agent.report.fleet import FleetReport, by_rule, judge
from agent.report.fleet_html import render_fleet
from agent.report.fleet_rules import DAY, METRICS, operational_verdicts
from agent.report.prometheus import Sample
from policies.library import load_library

AT = 1_800_000_000.0
GOOD, BAD = "10.0.0.1:9877", "10.0.0.2:9877"


def s(instance: str, value: float, **labels: str) -> Sample:
    return Sample({"job": "hostward", "instance": instance, **labels}, value)


def answers() -> dict[str, list[Sample]]:
    """A healthy backup server and one whose secondary never completed, drill failed, outage
    open too long, daily record stale, journal failing, inventory old."""
    got: dict[str, list[Sample]] = {name: [] for name in METRICS}
    for repo in ("primary", "secondary"):
        got["hostward_backup_last_attempt_timestamp_seconds"] += [
            s(GOOD, AT - 3600, repository=repo),
            s(BAD, AT - 3600, repository=repo),
        ]
        got["hostward_backup_last_success_timestamp_seconds"].append(s(GOOD, AT - 3600, repository=repo))
        got["hostward_backup_check_success"] += [s(GOOD, 1, repository=repo), s(BAD, 1, repository=repo)]
        got["hostward_backup_coverage_gap"] += [s(GOOD, 0, repository=repo), s(BAD, 2, repository=repo)]
        got["hostward_backup_drill_success"].append(s(GOOD, 1, repository=repo))
    got["hostward_backup_last_success_timestamp_seconds"].append(s(BAD, AT - 40 * DAY, repository="primary"))
    got["hostward_backup_drill_success"].append(s(BAD, 0, repository="primary"))
    got["hostward_backup_offline_copy_age_seconds"] += [s(GOOD, 10 * DAY), s(BAD, 45 * DAY)]
    got["hostward_outage_open"] += [s(GOOD, 0, target="host"), s(BAD, 1, target="switch-1")]
    got["hostward_outage_over_threshold"] += [s(GOOD, 0, target="host"), s(BAD, 1, target="switch-1")]
    got["hostward_job_last_success_timestamp_seconds"] += [
        s(GOOD, AT - 3600, exported_job="report_daily"),
        s(BAD, AT - 5 * DAY, exported_job="report_daily"),
    ]
    got["hostward_journal_write_errors_total"] += [s(GOOD, 0), s(BAD, 3)]
    got["hostward_journal_last_write_error_timestamp_seconds"] += [s(GOOD, 0), s(BAD, AT - DAY)]
    got["hostward_inventory_last_timestamp_seconds"] += [s(GOOD, AT - DAY), s(BAD, AT - 30 * DAY)]
    return got


def test_backup_and_room_rules_are_judged_from_the_operational_metrics() -> None:
    verdicts = operational_verdicts(answers(), AT, {GOOD: "good", BAD: "bad"})
    for rule in ("BAK-1", "BAK-2", "BAK-4", "BAK-5", "ROOM-1", "ROOM-2", "ROOM-3", "ROOM-4", "ROOM-5"):
        assert set(verdicts[rule]["good"]) == {"pass"}, (rule, verdicts[rule]["good"])
        assert "fail" in verdicts[rule]["bad"], (rule, verdicts[rule]["bad"])
    assert verdicts["BAK-1"]["bad"]["fail"] == ["backup.daily", "backup.offline_copy_monthly"]
    assert verdicts["BAK-2"]["bad"]["fail"] == ["backup.two_copies", "backup.coverage"]
    assert verdicts["ROOM-1"]["bad"]["fail"] == ["outage.open"]


def test_a_host_that_exports_nothing_for_a_rule_gets_no_verdict_never_a_pass() -> None:
    verdicts = operational_verdicts({name: [] for name in METRICS}, AT, {GOOD: "good"})
    assert all("good" not in per_host for per_host in verdicts.values())
    only_attempts = {name: [] for name in METRICS}
    only_attempts["hostward_backup_last_attempt_timestamp_seconds"] = [s(GOOD, AT, repository="primary")]
    verdicts = operational_verdicts(only_attempts, AT, {GOOD: "good"})
    assert verdicts["BAK-1"]["good"] == {"fail": ["backup.daily"]}  # tried, never completed
    assert verdicts["BAK-5"]["good"] == {"error": ["backup.restore_drill"]}  # backs up, never drilled


def test_every_catalogue_rule_appears_in_the_report_with_its_clause() -> None:
    library, _ = load_library()
    up = [s(GOOD, 1.0), s(BAD, 1.0)]
    status = [s(GOOD, 1.0, check="usb.storage_blocked", rule="USB-1", severity="high")]
    hosts = judge(up, up, status, [], [])
    extra = operational_verdicts(answers(), AT, {GOOD: GOOD, BAD: BAD})
    html = render_fleet(FleetReport(AT, "http://p", "hostward", hosts, by_rule(hosts, extra)), library, "zh")
    for rid, rule in library.rules.items():
        row = re.search(rf'<tr data-rule="{re.escape(rid)}"[^>]*>.*?</tr>', html)
        assert row and rule.clause.zh in row.group(0), rid
    bak1 = re.search(r'<tr data-rule="BAK-1"[^>]*>.*?</tr>', html)
    assert bak1 and 'class="fail"' in bak1.group(0) and "backup.offline_copy_monthly" in bak1.group(0)
    bak6 = re.search(r'<tr data-rule="BAK-6"[^>]*>', html)
    assert bak6 and 'class="nodata"' in bak6.group(0)  # no signal for it anywhere: shown, not green


def test_the_live_fleet_report_lists_every_catalogue_rule(fleet: Fleet, tmp_path: Path) -> None:
    from test_fleet_report import report

    code, _, stderr, html = report(fleet, tmp_path)
    assert code == 0, stderr
    library, _ = load_library()
    rows = set(re.findall(r'<tr data-rule="([^"]+)"', html))
    assert set(library.rules) <= rows
    assert re.search(r'<tr data-rule="ROOM-3" class="pass">', html)  # both agents ran their daily record


def test_not_applicable_checks_show_per_host_with_their_reason_class() -> None:
    from agent.report.fleet import not_applicable

    up = [s(GOOD, 1.0), s(BAD, 1.0)]
    status = [s(GOOD, 1.0, check="usb.storage_blocked", rule="USB-1", severity="high")]
    na = [
        s(GOOD, 1.0, check="net.server_no_egress", rule="NET-3", severity="high", reason="role"),
        s(BAD, 1.0, check="net.no_unknown_devices", rule="NET-6", severity="high", reason="not_configured"),
        s(
            "10.9.9.9:9877", 1.0, check="x.y", rule="NET-6", severity="low", reason="role"
        ),  # no data: left out
    ]
    hosts = judge(up, up, status, [], [])
    rows = by_rule(hosts, None, not_applicable(na, {GOOD: "pc-good", BAD: "pc-bad"}))
    html = render_fleet(FleetReport(AT, "http://p", "hostward", hosts, rows), load_library()[0], "en")
    net3 = re.search(r'<tr data-rule="NET-3"[^>]*>.*?</tr>', html)
    assert (
        net3
        and "net.server_no_egress: role not covered" in net3.group(0)
        and 'class="nodata"' in net3.group(0)
    )
    net6 = re.search(r'<tr data-rule="NET-6"[^>]*>.*?</tr>', html)
    assert net6 and "net.no_unknown_devices: not configured" in net6.group(0) and "x.y" not in net6.group(0)
    zh = render_fleet(FleetReport(AT, "http://p", "hostward", hosts, rows), load_library()[0], "zh")
    assert "net.no_unknown_devices: 未配置" in zh
