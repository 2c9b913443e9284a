"""Windows test helpers: recorded PowerShell outputs replayed by name, and the `win` fixture."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from policies_kit import FIXTURES, AuditFn, RecordedRunner

from collectors.system.runner import CommandResult
from collectors.system.windows import network as win_net
from collectors.system.windows.powershell import POWERSHELL
from collectors.system.windows.readers import SCRIPTS

# The fixtures were recorded on 2026-11-20 02:00 UTC; the audit runs a day later.
RECORDED_NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
HEALTHY = {
    "mp_status": "healthy",
    "av_products": "defender_on",
    "local_users": "compliant",
    "usbstor": "blocked",
    "removable_policy": "classes",
    "usb_devices": "kingston",
    "hotfixes": "recent",
    "programs": "clean",
    "processes": "clean",
    "screen_lock": "600",
    "listeners": "clean",
    "network": "isolated",
    "services": "none",
    "pending_updates": "none",
}
SERVER_NO_SECURITY_CENTER = CommandResult(
    (), 1, b"", b"Get-CimInstance : Invalid namespace \r\nAt line:1 char:1 (0x8004100e)", 0.2
)


def runner(**cases: str | CommandResult) -> RecordedRunner:
    chosen: dict[str, Any] = {**HEALTHY, **cases}
    outputs: dict[tuple[str, ...], bytes | CommandResult] = {}
    for name, case in chosen.items():
        script = win_net.SCRIPT if name == "network" else SCRIPTS[name]
        data = (
            case
            if isinstance(case, CommandResult)
            else (FIXTURES / "windows" / name / f"{case}.json").read_bytes()
        )
        outputs[(*POWERSHELL, script)] = data
    return RecordedRunner(outputs)


@pytest.fixture
def win(check: AuditFn) -> AuditFn:
    def run(check_id: str, role: str = "office_pc", **kw: Any) -> Any:
        kw.setdefault("now", RECORDED_NOW)
        return check("C:\\", check_id, role=role, platform="windows", **kw)

    return run
