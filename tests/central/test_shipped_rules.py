"""The shipped alerting/recording rules and Alertmanager sample, checked with the real tools.

`promtool check rules` and `promtool test rules` (every alert fires in one case and stays
silent in another), `amtool check-config`, and the house conventions every alert must keep.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from central_kit import ALERTMANAGER_CONFIG, PROJECT, RULES, RULES_TEST, metric_names

CENTRAL_RULES = RULES.with_name("hostward_central_rules.yml")
RULE_FILES = {
    "site": (RULES, RULES_TEST),
    "central": (CENTRAL_RULES, CENTRAL_RULES.with_name("hostward_central_rules_test.yml")),
}

PROMTOOL = shutil.which("promtool")
AMTOOL = shutil.which("amtool")
RULE_IDS = {
    r["id"] for r in yaml.safe_load((PROJECT / "policies/library/rules.yaml").read_text("utf-8"))["rules"]
}


def rules(path: Path = RULES) -> list[dict[str, Any]]:
    return [r for g in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]


def alerts(path: Path = RULES) -> list[dict[str, Any]]:
    return [r for r in rules(path) if "alert" in r]


def tool(*argv: str, cwd: Path) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.skipif(PROMTOOL is None, reason="needs Debian prometheus (promtool)")
@pytest.mark.parametrize("which", RULE_FILES)
def test_promtool_checks_and_unit_tests_pass(which: str) -> None:
    assert PROMTOOL is not None
    path, unit_tests = RULE_FILES[which]
    out = tool(PROMTOOL, "check", "rules", path.name, cwd=path.parent)
    assert f"SUCCESS: {len(rules(path))} rules found" in out
    assert "SUCCESS" in tool(PROMTOOL, "test", "rules", unit_tests.name, cwd=path.parent)


@pytest.mark.skipif(PROMTOOL is None, reason="needs Debian prometheus (promtool)")
def test_promtool_test_catches_a_changed_threshold(tmp_path: Path) -> None:
    assert PROMTOOL is not None
    shutil.copy(RULES_TEST, tmp_path)
    text = RULES.read_text(encoding="utf-8")
    assert "> 26 * 3600" in text
    (tmp_path / RULES.name).write_text(text.replace("> 26 * 3600", "> 27 * 3600"), encoding="utf-8")
    done = subprocess.run(
        [PROMTOOL, "test", "rules", RULES_TEST.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "HostwardBackupTooOld" in done.stdout + done.stderr


@pytest.mark.parametrize("which", RULE_FILES)
def test_every_alert_has_a_firing_and_a_silent_case(which: str) -> None:
    path, unit_tests = RULE_FILES[which]
    cases: dict[str, set[bool]] = {}
    for group in yaml.safe_load(unit_tests.read_text(encoding="utf-8"))["tests"]:
        for case in group.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], set()).add(bool(case["exp_alerts"]))
    assert {a["alert"]: {True, False} for a in alerts(path)} == cases


@pytest.mark.parametrize("which", RULE_FILES)
def test_every_alert_has_severity_rule_bilingual_text_and_a_runbook(which: str) -> None:
    for alert in alerts(RULE_FILES[which][0]):
        labels, notes = alert["labels"], alert["annotations"]
        assert labels["severity"] in {"critical", "warning", "info"}, alert["alert"]
        # The rule id is a label: fixed here, or carried by hostward_check_status{rule}.
        if "rule" in labels:
            assert set(labels["rule"].split(",")) <= RULE_IDS, alert["alert"]
        else:
            assert "hostward_check_status" in metric_names(alert["expr"]), alert["alert"]
        assert {"summary", "summary_zh", "description", "description_zh", "runbook"} <= set(notes)
        assert re.search(r"[\u4e00-\u9fff]", notes["summary_zh"] + notes["description_zh"]), alert["alert"]


def test_rules_read_only_metrics_the_agent_exports() -> None:
    source = "".join(p.read_text(encoding="utf-8") for p in (PROJECT / "agent/exporter").glob("families*.py"))
    for rule in rules():
        for name in metric_names(rule["expr"]):
            if name.startswith("hostward_"):
                assert f'"{name}"' in source, (rule.get("alert") or rule.get("record"), name)
            else:
                assert name == "up", name
    for rule in rules(CENTRAL_RULES):  # the central one reads only its own scrapes of the sites
        assert metric_names(rule["expr"]) <= {"up", "scrape_samples_scraped"}, rule


@pytest.mark.skipif(AMTOOL is None, reason="needs Debian prometheus-alertmanager (amtool)")
def test_alertmanager_sample_config_is_valid_and_routes_by_severity() -> None:
    assert AMTOOL is not None
    assert "SUCCESS" in tool(AMTOOL, "check-config", ALERTMANAGER_CONFIG.name, cwd=ALERTMANAGER_CONFIG.parent)
    routes = {
        "oncall-webhook": ["severity=critical", "alertname=HostwardHostDownOver4h"],
        "security-webhook": ["severity=warning", "alertname=HostwardComplianceFailure", "rule=SW-1"],
        "ops-webhook": ["severity=warning", "alertname=HostwardBackupCoverageGap"],
    }
    for receiver, labels in routes.items():
        out = tool(AMTOOL, "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG.name}", *labels,
                   cwd=ALERTMANAGER_CONFIG.parent)  # fmt: skip
        assert out.strip() == receiver, (labels, out)
    inhibit = yaml.safe_load(ALERTMANAGER_CONFIG.read_text(encoding="utf-8"))["inhibit_rules"][0]
    assert 'threshold="4h"' in inhibit["source_matchers"] and 'threshold="2h"' in inhibit["target_matchers"]
