"""`hostward report fleet` against the running fleet's Prometheus names the failing host and rule."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from central_kit import HOSTWARD, Fleet, wait_for

pytestmark = pytest.mark.slow


def test_fleet_report_names_the_failing_host_and_rule(fleet: Fleet, tmp_path: Path) -> None:
    wait_for(lambda: len(fleet.query("hostward_audit_last_run_timestamp_seconds")) == 3, 30, "audits scraped")
    out = tmp_path / "fleet.html"
    argv = [
        str(HOSTWARD),
        "report",
        "fleet",
        "--prometheus",
        fleet.prometheus,
        "--out",
        str(out),
        "--lang",
        "en",
    ]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    html = out.read_text(encoding="utf-8")
    assert fleet.failing.host in html and fleet.failing.rule in html and fleet.failing.check in html
