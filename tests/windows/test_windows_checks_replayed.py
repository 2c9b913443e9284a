"""The Windows checks on Windows CPython (the bundle's python.exe under Wine).

Wine cannot stand in for PowerShell or CIM, so the outputs in tests/policies/fixtures/windows
(hand-written or transcribed from real machines, see SOURCES.md) are replayed through the real
code path by tests/policies/windows_cases.py, run as a script by the bundle's Python: the
statuses must be those Linux computes from the same file (recorded registry values included,
through memory_registry.py). And Wine's own powershell.exe, a stub that prints nothing (like a
PC where PowerShell is blocked), must leave no PowerShell-fed check passing: each is `error` and
says why. The USB storage checks read the registry itself (winreg): they are judged.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

from wine_kit import WineBox

POLICY_TESTS = Path(__file__).resolve().parents[1] / "policies"


def _windows_cases() -> ModuleType:
    if str(POLICY_TESTS) not in sys.path:  # windows_cases imports memory_registry from there
        sys.path.append(str(POLICY_TESTS))
    spec = importlib.util.spec_from_file_location("windows_cases", POLICY_TESTS / "windows_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("windows_cases", module)
    spec.loader.exec_module(module)
    return module


def test_replayed_windows_outputs_get_the_same_statuses_on_windows_cpython_as_on_linux(
    wine_box: WineBox,
) -> None:
    cases = _windows_cases()
    here = wine_box.scratch("replay")
    shutil.copy(POLICY_TESTS / "windows_cases.py", here / "windows_cases.py")
    shutil.copy(POLICY_TESTS / "memory_registry.py", here / "memory_registry.py")
    shutil.copytree(POLICY_TESTS / "fixtures" / "windows", here / "fixtures" / "windows")
    done = wine_box.python(wine_box.win_path(here / "windows_cases.py"), timeout=180)
    assert done.returncode == 0, done.describe()
    on_windows = json.loads(done.out("cp1252"))
    assert on_windows["platform"] == "win32"
    on_linux = cases.statuses()
    assert on_windows["statuses"] == on_linux
    # The verdicts themselves: healthy recordings pass, every broken reader is an error, and
    # the real machines get what they deserve.
    assert {k: v for k, v in on_linux.items() if "/" not in k} == dict.fromkeys(
        [c.name for c in cases.FED], "pass"
    )
    broken = {k: v for k, v in on_linux.items() if "/" in k and not k.startswith("real/")}
    assert len(broken) > 100 and set(broken.values()) == {"error"}
    assert {r.name: r.expected for r in cases.REAL} == {
        k.removeprefix("real/"): v for k, v in on_linux.items() if k.startswith("real/")
    }


def test_audit_under_wines_stub_powershell_passes_nothing_it_could_not_read(wine_box: WineBox) -> None:
    cases = _windows_cases()
    here = wine_box.scratch("stub")
    state = here / "state"
    config = here / "hostward.yaml"
    config.write_text(
        f"state_dir: '{wine_box.win_path(here)}\\state'\nhost: {{role: office_pc, name: pc-01}}\n",
        encoding="utf-8",
    )
    done = wine_box.hostward("audit", "-c", wine_box.win_path(config), "--json", timeout=180)
    # 2: could not determine; 1 only if the clock check fails (an audit run after hours).
    assert done.returncode in (1, 2), done.describe()
    report = json.loads(done.out("cp1252"))
    assert report["host"]["platform"] == "windows"
    results = {r["check"]: r for r in report["results"]}
    from_registry = {c.check for c in cases.FED if set(c.readers) <= set(cases.REGISTRY_READERS)}
    applicable = {c for c, r in results.items() if r["status"] != "not_applicable"}
    fed = ({c.check for c in cases.FED} - from_registry) & applicable
    assert {
        "pwd.max_age",
        "patch.security_updates",
        "sw.no_forbidden_software",
        "net.settings_unchanged",
    } <= fed
    for check in sorted(fed):
        result = results[check]
        assert result["status"] == "error", (check, result["status"], result["reason"])
        assert "PowerShell" in result["reason"] or "Defender" in result["reason"], (check, result["reason"])
    judged = {c for c, r in results.items() if r["status"] in ("pass", "fail")}
    # The clock, and the registry through winreg (USB policy; Wine's real registry has no
    # firewall or autorun policy values), are read without PowerShell.
    registry_only = {"win.firewall_on", "win.autorun_off", "win.autorun_inf_off", "win.screensaver_password"}
    assert judged <= {"lock.off_after_hours"} | registry_only | from_registry
    assert "usb.storage_blocked" in judged
    autorun = results["win.autorun_off"]
    assert autorun["status"] == "fail" and "NoDriveTypeAutoRun is not set" in autorun["reason"], autorun
    assert results["win.guest_off"]["status"] == "error"  # no secedit under Wine: never a pass
    assert results["win.password_complexity"]["status"] == "error"
    assert "PowerShell returned no data: blocked by policy" in results["pwd.max_age"]["reason"]
    assert state.is_dir()
