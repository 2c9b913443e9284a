"""No false green at the exit code: a rejected policy file, a mistyped check id, a missing
policy path and a remediation followed word for word all end in the right status."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_helpers import hostward
from policies_kit import AuditFn, write

from policies.library import Library

BROKEN = """\
version: 1
checks:
  - id: custom.x
    title: {zh: 自定义, en: Custom}
    rationale: local rule
    rules: [LOCK-1]
    severity: low
    remediation: {zh: 设置, en: set it}
    probe: {name: no_such_probe}
"""


def _config(tmp_path: Path, policy_dir: Path) -> Path:
    config = tmp_path / "hostward.yaml"
    config.write_text(
        f"host: {{name: pc-01, role: office_pc}}\nstate_dir: {tmp_path / 'state'}\n"
        f"audit: {{policy_dirs: [{json.dumps(str(policy_dir))}]}}\n",
        encoding="utf-8",
    )
    return config


def test_a_rejected_policy_file_is_an_error_result_naming_file_and_line_and_exit_two(
    tmp_path: Path, linux_root: Path
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "custom.yaml").write_text(BROKEN, encoding="utf-8")
    config = _config(tmp_path, policies)
    code, out, err = hostward(
        "audit", "-c", str(config), "--root", str(linux_root), "--check", "custom.x", "--json"
    )
    assert code == 2
    results = json.loads(out)["results"]
    assert [r["check"] for r in results] == ["policy.files_valid"]
    assert results[0]["status"] == "error"
    assert f"{policies / 'custom.yaml'}:3: checks[0].probe.name: unknown probe" in results[0]["reason"]
    assert "unknown check / 未知检查项: custom.x" in err


def test_the_table_shows_the_rejected_policy_file_too(tmp_path: Path, linux_root: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "custom.yaml").write_text(BROKEN, encoding="utf-8")
    config = _config(tmp_path, policies)
    code, out, _ = hostward(
        "audit", "-c", str(config), "--root", str(linux_root), "--lang", "en",
        "--check", "usb.storage_blocked",
    )  # fmt: skip
    assert code == 2
    row = next(line for line in out.splitlines() if "policy.files_valid" in line)
    assert row.startswith("error") and f"{policies / 'custom.yaml'}:3:" in row


def test_a_mistyped_check_id_exits_two_and_names_near_matches(tmp_path: Path, linux_root: Path) -> None:
    config = _config(tmp_path, tmp_path)
    code, _, err = hostward(
        "audit", "-c", str(config), "--root", str(linux_root), "--check", "usb.storage_blocke"
    )
    assert code == 2
    assert "unknown check / 未知检查项: usb.storage_blocke; did you mean / 是否指: usb.storage_blocked" in err


def test_validating_a_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    code, out, err = hostward("audit", "--validate-policies", str(missing))
    assert code == 2 and "valid" not in out
    assert err.startswith(f"{missing}:0: does not exist")


def _quoted_lines(text: str) -> list[str]:
    return re.findall(r'"([^"]+)"', text)


def test_usb_remediation_followed_word_for_word_makes_the_check_pass(
    linux_root: Path, check: AuditFn, library: Library
) -> None:
    remediation = library.check("usb.storage_blocked").remediation
    lines = _quoted_lines(remediation.en)
    assert lines == _quoted_lines(remediation.zh)  # both languages tell the same lines
    write(linux_root, "/etc/modprobe.d/hostward-usb.conf", "")
    before = check(linux_root, "usb.storage_blocked", live=False)
    assert before.status == "fail" and "uas" in before.reason
    write(linux_root, "/etc/modprobe.d/hostward-usb.conf", "".join(f"{line}\n" for line in lines))
    after = check(linux_root, "usb.storage_blocked", live=False)
    assert after.status == "pass", after.reason
    assert set(after.evidence["modules"]) == {"usb_storage", "uas"}


def test_a_rejected_policy_file_shows_in_the_metrics_and_the_evidence_report(library: Library) -> None:
    from agent.exporter.families_audit import audit_families
    from agent.state import Record, Snapshot
    from agent.web.audit_report import render_report
    from common.schema import Problem
    from policies.audit import policy_error

    result = policy_error([Problem("/etc/hostward/policies/custom.yaml", 3, "checks[0].id", "bad")])
    record = Record.of("audit", 1.0, {"results": [result.to_json()], "summary": {"error": 1}})
    metrics = {m.name: m for m in audit_families(Snapshot(1, records={"audit": record}))}
    (sample,) = metrics["hostward_check_status"].samples
    assert sample.labels == {"check": "policy.files_valid", "rule": "", "severity": "high"}
    assert sample.value == -1.0
    html = render_report({"name": "pc-01"}, [result], library, "en")
    assert "Policy files" in html and "/etc/hostward/policies/custom.yaml:3: checks[0].id: bad" in html
