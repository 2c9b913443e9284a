"""The shipped Grafana dashboard: Grafana's schema basics, the four rows, and real metric names.

Every metric a panel reads must be one the running fleet's Prometheus really holds (agents'
scrapes, `up`, the shipped recording rules, ALERTS): a renamed metric breaks this test, not
the dashboard of an administrator at 3 a.m.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from central_kit import DASHBOARD, Fleet, get_json, metric_names, wait_for


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def exprs(board: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


def test_dashboard_has_the_grafana_schema_basics() -> None:
    board = dashboard()
    assert board["uid"] == "hostward-fleet" and board["title"]
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 30
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "site", "role"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= set(grid) and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert all(t["refId"] and t["expr"] for t in panel["targets"]), panel["title"]
    boxes = [p["gridPos"] for p in board["panels"]]
    for n, a in enumerate(boxes):  # no two panels overlap
        for b in boxes[n + 1 :]:
            apart = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
            assert apart or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"], (a, b)
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert [r.split(" / ")[0] for r in rows] == ["Fleet health", "Compliance", "Backups", "Machine room"]


def test_panels_filter_by_site_and_role() -> None:
    for expr in exprs(dashboard()):
        for selector in expr.split("{")[1:]:
            assert 'site=~"$site"' in selector and 'role=~"$role"' in selector, expr


@pytest.mark.slow
def test_every_metric_in_a_panel_is_in_the_fleets_prometheus(fleet: Fleet) -> None:
    wait_for(lambda: fleet.query("instance:hostward_check_failing:count"), 30, "the recording rules")
    wait_for(lambda: fleet.query('ALERTS{alertstate="firing"}'), 60, "a firing alert")
    wait_for(lambda: fleet.query("hostward_device_humidity_ratio"), 30, "the room sensor")
    known = set(get_json(f"{fleet.prometheus}/api/v1/label/__name__/values")["data"])
    used = set().union(*(metric_names(e) for e in exprs(dashboard())))
    assert len(used) >= 20
    assert used - known == set()


@pytest.mark.slow
def test_every_panel_query_runs_and_the_key_panels_show_the_fleet(fleet: Fleet) -> None:
    """Each expression, variables set to All, is valid PromQL that the real Prometheus evaluates."""
    wait_for(lambda: fleet.query("hostward:check_failing:count_by_rule"), 30, "the recording rules")
    results = {}
    for expr in exprs(dashboard()):
        results[expr] = fleet.query(expr.replace("$site", ".*").replace("$role", ".*"))  # asserts success
    by_host = next(r for e, r in results.items() if e.startswith("sort_desc(count by (host)"))
    assert [(r["metric"]["host"], r["value"][1]) for r in by_host] == [(fleet.failing.host, "1")]
    devices = next(r for e, r in results.items() if e.startswith("hostward_device_up"))
    assert sorted(r["metric"]["device"] for r in devices) == ["room-1", "ups-a"]
