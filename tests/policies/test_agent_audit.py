"""The audit job, its metrics and status-page section, and the `hostward audit` command."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cli_helpers import hostward
from policies_kit import write
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from agent.actions.audit import BASELINE_KEY, USB_KEY, audit_job, merge_usb_devices
from agent.actions.base import JobContext
from agent.config import load_config
from agent.exporter.families_audit import audit_families
from agent.journal import Journal
from agent.records.audit import AuditRecord
from agent.state import State
from agent.web.section_audit import audit_section


def config(tmp_path: Path, body: str = "") -> str:
    path = tmp_path / "hostward.yaml"
    path.write_text(f"state_dir: {tmp_path / 'state'}\nhost: {{role: office_pc, name: pc-01}}\n{body}")
    return str(path)


def test_audit_of_a_compliant_root_exits_zero_and_prints_json(linux_root: Path, tmp_path: Path) -> None:
    code, out, _ = hostward("audit", "-c", config(tmp_path), "--root", str(linux_root), "--json")
    report = json.loads(out)
    assert report["host"]["root"] == str(linux_root) and report["host"]["live"] is False
    statuses = {r["check"]: r["status"] for r in report["results"]}
    assert "fail" not in statuses.values() and "error" not in statuses.values(), statuses
    assert statuses["net.settings_unchanged"] == "not_applicable"
    assert code == 0


def test_a_failing_check_exits_one_and_the_table_speaks_chinese(linux_root: Path, tmp_path: Path) -> None:
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    code, out, _ = hostward("audit", "-c", config(tmp_path), "--root", str(linux_root))
    assert code == 1
    assert any(line.startswith("不符合") and "pwd.max_age" in line for line in out.splitlines())


def test_an_undeterminable_check_without_failures_exits_two(linux_root: Path, tmp_path: Path) -> None:
    (linux_root / "etc/shadow").unlink()
    code, out, _ = hostward(
        "audit",
        "-c",
        config(tmp_path),
        "--root",
        str(linux_root),
        "--json",
        "--check",
        "pwd.max_age",
        "--check",
        "pwd.login_password_set",
    )
    assert [r["status"] for r in json.loads(out)["results"]] == ["error", "error"]
    assert code == 2


def test_waived_failure_exits_zero_and_stays_visible(linux_root: Path, tmp_path: Path) -> None:
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    cfg = config(
        tmp_path,
        "audit:\n  waivers:\n"
        '    - {check: pwd.max_age, approver: 王主任, reason: HIS 旧账号, expires: "2099-12-31"}\n',
    )
    code, out, _ = hostward("audit", "-c", cfg, "--root", str(linux_root), "--json", "--check", "pwd.max_age")
    (result,) = json.loads(out)["results"]
    assert (result["status"], result["waived"], result["waiver"]["approver"]) == ("fail", True, "王主任")
    assert code == 0


def test_html_evidence_report_names_rules_clauses_and_evidence(linux_root: Path, tmp_path: Path) -> None:
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    html_file = tmp_path / "report.html"
    hostward(
        "audit", "-c", config(tmp_path), "--root", str(linux_root), "--html", str(html_file), "--lang", "zh"
    )
    html = html_file.read_text(encoding="utf-8")
    assert '<h2 id="rule-PWD-1">PWD-1 定期更换密码，每个密码最长使用三个月。</h2>' in html
    assert 'data-check="pwd.max_age"' in html and "不符合" in html
    assert "login_defs_pass_max_days" in html


def test_invalid_audit_config_exits_two_with_file_and_line(tmp_path: Path) -> None:
    cfg = config(
        tmp_path, "audit:\n  waivers:\n    - {check: x.y, approver: a, reason: r, expires: tomorrow}\n"
    )
    code, _, err = hostward("audit", "-c", cfg)
    assert code == 2
    assert f"{cfg}:5: audit.waivers[0].expires: must be a quoted date" in err


@pytest.fixture
def job_ctx(tmp_path: Path) -> JobContext:
    loaded = load_config(config(tmp_path))
    state = State.open(loaded.state_dir)
    return JobContext(
        loaded.config,
        state,
        loaded.state_dir,
        time.monotonic() + 60,
        threading.Event(),
        logging.getLogger("test"),
    )


def test_audit_job_stores_record_baseline_and_journal(job_ctx: JobContext) -> None:
    outcome = audit_job(job_ctx)
    record = job_ctx.state.snapshot().records.get("audit")
    assert record is not None
    assert {"host", "results", "summary", "policy_problems"} <= set(record.payload)
    assert sum(record.payload["summary"][k] for k in ("pass", "fail", "error", "not_applicable")) == 47
    assert outcome.success
    assert job_ctx.state.get(BASELINE_KEY) is not None  # NET-5 baseline registered on first audit
    (entry,) = list(Journal(job_ctx.state_dir).entries())
    assert entry.kind == "audit.run"


def test_usb_devices_keep_first_and_last_seen(job_ctx: JobContext) -> None:
    dev = {"vendor": "Kingston", "product": "DataTraveler 3.0", "serial": "60A4"}
    merge_usb_devices(job_ctx.state, [dev], 100.0)
    merge_usb_devices(job_ctx.state, [dev], 250.0)
    (entry,) = job_ctx.state.get(USB_KEY).values()
    assert (entry["first_seen"], entry["last_seen"]) == (100.0, 250.0)


def test_metrics_encode_status_per_rule_and_pass_promtool(job_ctx: JobContext) -> None:
    audit_job(job_ctx)
    snap = job_ctx.state.snapshot()

    class Families(Collector):
        def collect(self):  # type: ignore[no-untyped-def]
            return audit_families(snap)

    registry = CollectorRegistry()
    registry.register(Families())
    text = generate_latest(registry).decode()
    results = snap.records["audit"].payload["results"]
    checked = [r for r in results if r["status"] != "not_applicable"]
    assert text.count("hostward_check_status{") == sum(len(r["rules"]) for r in checked)
    fail = next((r for r in checked if r["status"] == "fail"), None)
    if fail is not None:
        assert (
            f'hostward_check_status{{check="{fail["check"]}",rule="{fail["rules"][0]}",'
            f'severity="{fail["severity"]}"}} 0.0' in text
        )
    assert 'hostward_audit_checks{status="not_applicable"}' in text
    if shutil.which("promtool"):
        lint = subprocess.run(
            ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr


def test_status_section_shows_compliance_by_rule_in_both_languages(job_ctx: JobContext) -> None:
    audit_job(job_ctx)
    snap = job_ctx.state.snapshot()
    zh, en = audit_section(snap, "zh"), audit_section(snap, "en")
    assert 'data-rule="USB-1"' in zh and "仅部门经理的电脑可开放USB口" in zh
    assert "Only department managers' PCs may use USB storage" in str(en).replace("&#39;", "'")
    assert "<script" not in zh


def test_usb_devices_seen_are_shown_on_the_status_page(job_ctx: JobContext) -> None:
    merge_usb_devices(job_ctx.state, [{"vendor": "Kingston", "product": "<DT 3.0>", "serial": "60A4"}], 100.0)
    audit_job(job_ctx)
    html = audit_section(job_ctx.state.snapshot(), "zh")
    assert 'id="usb-devices"' in html and "USB存储设备记录" in html
    assert "&lt;DT 3.0&gt;" in html and "<DT 3.0>" not in html


def test_accepting_the_network_baseline_is_journaled(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    code, out, _ = hostward("audit", "-c", cfg, "--accept-network-baseline")
    assert code == 0
    accepted = json.loads(out)
    assert accepted["before"] is None and set(accepted["after"]) == {"interfaces", "gateways", "dns"}
    state = State.open(tmp_path / "state")
    assert state.get(BASELINE_KEY) == accepted["after"]
    (entry,) = list(Journal(tmp_path / "state").entries())
    assert entry.kind == "audit.network_baseline"
    code, out, _ = hostward("audit", "-c", cfg, "--json", "--check", "net.settings_unchanged")
    assert json.loads(out)["results"][0]["status"] == "pass"
    assert state.record(AuditRecord) is None  # a one-check audit does not replace the stored record


def test_the_table_names_the_clause_of_each_failing_rule_in_both_languages(
    linux_root: Path, tmp_path: Path
) -> None:
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    cfg = config(tmp_path)
    _, zh, _ = hostward("audit", "-c", cfg, "--root", str(linux_root), "--lang", "zh")
    _, en, _ = hostward("audit", "-c", cfg, "--root", str(linux_root), "--lang", "en")
    assert "未满足的条款：" in zh and "  PWD-1  定期更换密码，每个密码最长使用三个月。  (pwd.max_age)" in zh
    assert "Rules not met:" in en
    assert "  PWD-1  Passwords are changed regularly and live at most three months.  (pwd.max_age)" in en
    (tmp_path / "ok").mkdir()
    only = ("--check", "acc.no_shared_accounts")
    _, clean, _ = hostward("audit", "-c", config(tmp_path / "ok"), "--root", str(linux_root), *only)
    assert "Rules not met" not in clean and "未满足的条款" not in clean
