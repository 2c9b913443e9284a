"""End to end with real parts: agents -> Prometheus (shipped rules) -> Alertmanager (shipped config).

The one compliance failure of the fleet (pc-bad breaks SW-1) must reach Alertmanager's API,
labelled with the host, check and rule; the healthy hosts, whose local failures are waived,
must raise nothing. The sample's inhibit rule (4 h mutes 2 h) is checked in the same Alertmanager.
"""

from __future__ import annotations

from typing import Any

import pytest
from central_kit import Fleet, post_json, wait_for

pytestmark = pytest.mark.slow
# Alerts about the machine the tests run on, not about the fleet's config: its disk fills while
# other tests write (predict_linear over a minute of data), its links and units are its own.
HOST_ALERTS = (
    "HostwardFilesystemFillingUp|HostwardFilesystemInodesRunningOut|HostwardDiskUnhealthy|"
    "HostwardDiskErrors|HostwardNetworkLinkDown|HostwardSystemdUnitFailed|HostwardClockNotSynchronised"
)
SCRAPE_ALERTS = "HostwardAgentDown|HostwardHostDownOver2h|HostwardHostDownOver4h|" + HOST_ALERTS


def compliance_alerts(fleet: Fleet) -> list[dict[str, Any]]:
    return [a for a in fleet.alerts() if a["labels"]["alertname"] == "HostwardComplianceFailure"]


def test_the_compliance_failure_arrives_in_alertmanager(fleet: Fleet) -> None:
    bad = fleet.agent(fleet.failing.host)
    (alert,) = wait_for(lambda: compliance_alerts(fleet), 120, "the compliance alert in Alertmanager")
    labels = alert["labels"]
    assert (labels["host"], labels["instance"]) == (bad.name, bad.instance)
    assert (labels["check"], labels["rule"]) == (fleet.failing.check, fleet.failing.rule)
    assert (labels["severity"], labels["check_severity"], labels["job"]) == ("warning", "high", "hostward")
    assert alert["status"]["state"] == "active"
    notes = alert["annotations"]
    assert notes["summary"] == "pc-bad breaks SW-1 (check sw.no_forbidden_software)"
    assert notes["summary_zh"] == "pc-bad 违反制度 SW-1（检查项 sw.no_forbidden_software）"
    assert notes["runbook"].startswith("on the host: hostward audit --check sw.no_forbidden_software")
    # The agent's own evidence agrees: the check fails there and is not waived.
    failing = fleet.query('hostward_check_status{rule="SW-1"} == 0')
    assert [r["metric"]["host"] for r in failing] == [bad.name]


def test_healthy_hosts_raise_no_alert(fleet: Fleet) -> None:
    wait_for(lambda: compliance_alerts(fleet), 120, "the compliance alert (rules evaluated)")
    audited = wait_for(
        lambda: (
            {r["metric"]["host"] for r in fleet.query("hostward_audit_last_run_timestamp_seconds")}
            == {a.name for a in fleet.agents}
        ),
        30,
        "every agent's audit scraped",
    )
    assert audited
    for agent in fleet.healthy:
        # The library really ran there (a dozen check series or more), every failure waived.
        assert len(fleet.query(f'hostward_check_status{{host="{agent.name}"}}')) >= 10
        unwaived = fleet.query(
            f'(hostward_check_status{{host="{agent.name}"}} == 0)'
            " unless on (instance, check) (hostward_check_waived == 1)"
        )
        assert unwaived == []
        # Nothing firing, nothing pending; a scrape that times out on a loaded machine may leave
        # a pending "agent down" (5 min before it fires), which is not an alert raised.
        assert fleet.query(f'ALERTS{{host="{agent.name}", alertstate="firing"}}') == []
        assert fleet.query(f'ALERTS{{host="{agent.name}", alertname!~"{SCRAPE_ALERTS}"}}') == []
    assert [a["labels"]["host"] for a in fleet.alerts() if "host" in a["labels"]] == [fleet.failing.host]


def test_machine_room_and_backups_are_scraped_healthy(fleet: Fleet) -> None:
    """srv-room's UPS, room sensor and two backed-up repositories reach Prometheus, all in range."""
    # the UPS (power round) and the sensor (network round) are polled apart: wait for both
    wait_for(lambda: len(fleet.query('hostward_device_up{host="srv-room"} == 1')) == 2, 30, "devices polled")
    on_mains = fleet.query('hostward_ups_on_battery{host="srv-room", device="ups-a"}')
    assert [r["value"][1] for r in on_mains] == ["0"]
    temperature = fleet.query('hostward_device_temperature_celsius{host="srv-room"}')
    assert [float(r["value"][1]) for r in temperature] == [23.5]
    repos = fleet.query('hostward_backup_status{host="srv-room"} == 1')
    assert sorted(r["metric"]["repository"] for r in repos) == ["primary", "secondary"]
    drills = fleet.query('hostward_backup_drill_success{host="srv-room"} == 1')
    assert len(drills) == 2
    assert fleet.query(f'ALERTS{{host="srv-room", alertname!~"{SCRAPE_ALERTS}"}}') == []


def test_the_4h_outage_alert_inhibits_the_2h_one(fleet: Fleet) -> None:
    """The shipped inhibit rule, in the real Alertmanager: same device past 4 h mutes its 2 h alert."""
    base = {"instance": "inhibit-test:9877", "job": "hostward", "rule": "ROOM-2", "target": "core-sw"}
    posted = [
        {"labels": {**base, "alertname": f"HostwardDeviceDownOver{t}", "threshold": t, "severity": s}}
        for t, s in (("2h", "warning"), ("4h", "critical"))
    ] + [{"labels": {**base, "alertname": "HostwardDeviceDownOver2h", "threshold": "2h", "target": "ups-a"}}]
    post_json(f"{fleet.alertmanager}/api/v2/alerts", posted)

    def states() -> dict[tuple[str, str], str]:
        mine = [a for a in fleet.alerts() if a["labels"].get("instance") == base["instance"]]
        return {(a["labels"]["target"], a["labels"]["threshold"]): a["status"]["state"] for a in mine}

    seen = wait_for(
        lambda: (s := states()) and s.get(("core-sw", "2h")) == "suppressed" and s, 30, "inhibition"
    )
    assert seen == {("core-sw", "2h"): "suppressed", ("core-sw", "4h"): "active", ("ups-a", "2h"): "active"}
