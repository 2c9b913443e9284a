"""Windows test helpers: PowerShell outputs (hand-written or transcribed, see SOURCES.md) replayed
by script, and the `win` fixture."""

from __future__ import annotations

from typing import Any

import pytest
import windows_cases
from policies_kit import AuditFn, RecordedRunner

# Most fixtures are hand-written, some transcribed from real machines' published output: each
# folder's SOURCES.md says which. The hand-written ones are dated around 2026-11-20.
RECORDED_NOW = windows_cases.RECORDED_NOW
HEALTHY = windows_cases.HEALTHY
SERVER_NO_SECURITY_CENTER = windows_cases.SERVER_NO_SECURITY_CENTER


def runner(**cases: windows_cases.Reading) -> RecordedRunner:
    """A PC whose readers print the HEALTHY fixtures (and holds the HEALTHY registry values),
    except those named."""
    pc = windows_cases.replay(**cases)
    return RecordedRunner(pc.outputs, pc.registry)


@pytest.fixture
def win(check: AuditFn) -> AuditFn:
    def run(check_id: str, role: str = "office_pc", **kw: Any) -> Any:
        kw.setdefault("now", RECORDED_NOW)
        return check("C:\\", check_id, role=role, platform="windows", **kw)

    return run
