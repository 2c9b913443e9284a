"""The shipped systemd unit passes `systemd-analyze verify` and runs `hostward run`. (The
Windows service is pywin32's, proven under Wine in tests/windows/test_wine_daemon.py.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "systemd" / "hostward.service"
HOSTWARD = Path(sys.executable).parent / "hostward"


def verify_unit(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    unit = tmp_path / "hostward.service"
    unit.write_text(text.replace("/opt/hostward/bin/hostward", str(HOSTWARD)))
    return subprocess.run(
        ("systemd-analyze", "verify", "--man=no", str(unit)),
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_unit_verifies_and_a_misspelt_key_would_not(tmp_path: Path) -> None:
    text = UNIT.read_text()
    good = verify_unit(text, tmp_path)
    assert good.returncode == 0, good.stderr
    assert "hostward.service" not in good.stderr  # no warning about our unit
    bad = verify_unit(text.replace("ProtectHome=", "ProtectHomes="), tmp_path)
    assert "Unknown key" in bad.stderr and "ProtectHomes" in bad.stderr


def test_the_systemd_unit_reloads_with_sighup_and_keeps_its_state_dir() -> None:
    lines = set(UNIT.read_text().splitlines())
    assert {"ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "StateDirectory=hostward",
            "ExecStart=/opt/hostward/bin/hostward run", "RestartPreventExitStatus=2"} <= lines
