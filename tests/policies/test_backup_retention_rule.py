"""BAK-3 from the agent's own backup.retention: weaker than "yearly for good, every change for
five years" fails; no backup configured is not_applicable (not configured)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import hostward
from policies_kit import NOW, RecordedRunner

from policies.context import AuditInputs, Target
from policies.engine import run_audit
from policies.library import Library
from policies.probes.backup_rules import duration_days
from policies.result import CheckResult, na_class

CHECK = "bak.retention_meets_rule"


def judge(library: Library, root: Path, retention: dict[str, Any] | None) -> CheckResult:
    target = Target("pc-01", "server", "linux", str(root), True)
    inputs = AuditInputs(backup_retention=retention)
    (result,) = run_audit(library, target, RecordedRunner({}), inputs, only=[CHECK], now=NOW).results
    return result


@pytest.mark.parametrize(
    ("text", "days"), [("5y", 1826.25), ("60m", 1826.25), ("1825d", 1825), ("2y6m", 913.125)]
)
def test_restic_durations_are_read_in_days(text: str, days: float) -> None:
    assert duration_days(text) == pytest.approx(days)


@pytest.mark.parametrize(
    "keep", [{"keep_within": "5y", "keep_yearly": 1000}, {"keep_within": "60m", "keep_yearly": 100}]
)
def test_the_default_retention_and_its_equivalents_pass(
    library: Library, tmp_path: Path, keep: dict[str, Any]
) -> None:
    result = judge(library, tmp_path, keep)
    assert result.status == "pass", result.reason


@pytest.mark.parametrize(
    ("keep", "reason"),
    [
        (
            {"keep_within": "1y", "keep_yearly": 1000},
            "keep_within is 1y: changes are not all kept for 5 years",
        ),
        ({"keep_within": "", "keep_daily": 30, "keep_yearly": 1000}, "keep_within is unset"),
        ({"keep_within": "5y", "keep_yearly": 7}, "keep_yearly is 7: yearly backups are not kept for good"),
    ],
)
def test_a_weaker_retention_fails_bak3(
    library: Library, tmp_path: Path, keep: dict[str, Any], reason: str
) -> None:
    result = judge(library, tmp_path, keep)
    assert result.status == "fail" and reason in result.reason


def test_an_unreadable_duration_is_an_error_and_no_backup_is_not_configured(
    library: Library, tmp_path: Path
) -> None:
    assert judge(library, tmp_path, {"keep_within": "five years", "keep_yearly": 1000}).status == "error"
    none = judge(library, tmp_path, None)
    assert none.status == "not_applicable" and na_class(none) == "not_configured"


BACKUP = """backup:
  sources: [{source}]
  repositories:
    primary: {{url: {repo}/a, password_file: {repo}/pass}}
    secondary: {{url: {repo}/b, password_file: {repo}/pass}}
  retention: {{keep_within: 1y, keep_yearly: 3}}
"""


def test_the_audit_command_reads_the_configured_retention(tmp_path: Path) -> None:
    cfg = tmp_path / "hostward.yaml"
    body = BACKUP.format(source=tmp_path, repo=tmp_path)
    cfg.write_text(f"state_dir: {tmp_path / 'state'}\nhost: {{role: server, name: srv-01}}\n{body}")
    code, out, err = hostward("audit", "-c", str(cfg), "--check", CHECK, "--json")
    (result,) = json.loads(out)["results"]
    assert result["status"] == "fail", (result, err)
    assert "keep_within is 1y" in result["reason"] and "keep_yearly is 3" in result["reason"]
    assert code == 1
