"""Reasons in Chinese and English: every probe's verdict has both; the table, the HTML evidence
report and the status page speak the chosen language; the JSON contract keeps `reason` (en)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_helpers import hostward
from policies_kit import NOW, RecordedRunner, write
from windows_kit import RECORDED_NOW, runner

from agent.commands.audit_cmd import format_table
from agent.state import Record, Snapshot
from agent.web.audit_report import render_report
from agent.web.section_audit import audit_section
from policies.context import AuditInputs, Leaver, Target
from policies.engine import run_audit
from policies.library import Library
from policies.result import CheckResult

CJK = re.compile(r"[\u4e00-\u9fff]")


def break_linux(root: Path) -> None:
    """One root where nearly every Linux check fails."""
    write(root, "/etc/modprobe.d/hostward-usb.conf", "")
    write(root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    write(root, "/etc/passwd", "root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n")
    write(root, "/etc/shadow", "root::19000:0:99999:7:::\ntoor:!:19000:0:99999:7:::\n")
    write(root, "/etc/dconf/db/local.d/00-screensaver", "")
    write(root, "/etc/clamav/clamd.conf", "")
    (root / "var/lib/clamav/daily.cvd").unlink()
    (root / "var/lib/clamav/main.cvd").unlink()
    (root / "var/log/clamav/clamscan.log").unlink()
    (root / "var/log/apt/history.log").unlink()
    (root / "var/lib/apt/lists").rename(root / "lists.gone")


def all_results(
    library: Library, root: Path, role: str, platform: str = "linux", **kw: object
) -> list[CheckResult]:
    target = Target("pc-01", role, platform, str(root), True)  # type: ignore[arg-type]
    inputs = AuditInputs(leavers=(Leaver("离职者", "root", NOW.date()),), assets={})
    runner = kw.pop("runner", RecordedRunner({}))
    registry = getattr(runner, "registry", None)
    report = run_audit(library, target, runner, inputs, now=kw.pop("now", NOW), registry=registry)  # type: ignore[arg-type]
    return report.results


def assert_bilingual(results: list[CheckResult]) -> None:
    for r in results:
        assert r.reason and r.reason_zh, r.check
        assert CJK.search(r.reason_zh), (r.check, r.status, r.reason_zh)
        assert r.reason_in("en") == r.reason and r.reason_in("zh") == r.reason_zh


def test_every_linux_verdict_has_a_chinese_reason(library: Library, linux_root: Path) -> None:
    for role in ("office_pc", "manager_pc", "insurance_terminal", "clinical_terminal", "server"):
        assert_bilingual(all_results(library, linux_root, role))
    break_linux(linux_root)
    broken = all_results(library, linux_root, "clinical_terminal")
    assert {r.status for r in broken} >= {"fail", "error"}
    assert_bilingual(broken)


def test_every_windows_verdict_has_a_chinese_reason(library: Library) -> None:
    healthy = all_results(library, Path("C:/"), "office_pc", "windows", runner=runner(), now=RECORDED_NOW)
    assert_bilingual(healthy)
    bad = runner(
        mp_status="stale", av_products="all_off", local_users="noncompliant", usbstor="open", hotfixes="old"
    )
    assert_bilingual(all_results(library, Path("C:/"), "manager_pc", "windows", runner=bad, now=RECORDED_NOW))


def test_json_keeps_the_contract_and_adds_reason_zh(linux_root: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "hostward.yaml"
    cfg.write_text(f"state_dir: {tmp_path / 'state'}\nhost: {{role: office_pc, name: pc-01}}\n")
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    _, out, _ = hostward("audit", "-c", str(cfg), "--root", str(linux_root), "--json", "--lang", "en")
    row = next(r for r in json.loads(out)["results"] if r["check"] == "pwd.max_age")
    assert {"check", "status", "rules", "severity", "evidence", "reason", "reason_zh"} <= set(row)
    assert "PASS_MAX_DAYS is 99999" in row["reason"] and "PASS_MAX_DAYS 为 99999" in row["reason_zh"]
    old = {k: v for k, v in row.items() if k != "reason_zh"}  # a record stored before reasons had zh
    assert CheckResult.from_json(old).reason_in("zh") == row["reason"]


def test_table_report_and_status_page_use_the_chosen_language(library: Library, linux_root: Path) -> None:
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    results = all_results(library, linux_root, "office_pc")
    zh_reason = next(r.reason_zh for r in results if r.check == "pwd.max_age")
    en_reason = next(r.reason for r in results if r.check == "pwd.max_age")
    assert zh_reason in format_table(results, "zh") and en_reason not in format_table(results, "zh")
    assert en_reason in format_table(results, "en") and zh_reason not in format_table(results, "en")
    host = {"name": "pc-01"}
    assert "PASS_MAX_DAYS 为 99999" in render_report(host, results, library, "zh")
    assert "PASS_MAX_DAYS is 99999" in render_report(host, results, library, "en")
    payload = {"results": [r.to_json() for r in results], "summary": {}}
    snap = Snapshot(1, records={"audit": Record.of("audit", 0.0, payload)})
    assert "PASS_MAX_DAYS 为 99999" in audit_section(snap, "zh")
    assert "PASS_MAX_DAYS is 99999" in audit_section(snap, "en")
