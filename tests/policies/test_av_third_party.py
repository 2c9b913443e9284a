"""AV-1..3 with the Chinese third-party products through Security Center, and the Windows
Server fallback (no Security Center: Defender, else the product's service)."""

from __future__ import annotations

from typing import Any

import pytest
from policies_kit import FIXTURES, AuditFn, RecordedRunner
from windows_kit import SERVER_NO_SECURITY_CENTER, runner

from collectors.system.windows.powershell import POWERSHELL
from collectors.system.windows.records import FILE_TIMES
from policies.config import ParameterOverride
from policies.probes.windows_av import vendor
from policies.schema import Parameters

VENDORS = {
    "360_safe": ("360安全卫士", "360 (Qihoo)"),
    "huorong": ("火绒安全软件", "Huorong 火绒"),
    "kingsoft": ("金山毒霸", "Kingsoft 金山"),
    "qianxin_outdated": ("奇安信天擎", "Qi-Anxin 奇安信"),
    "rising_off": ("瑞星杀毒软件", "Rising 瑞星"),
}
HUORONG_LOGS = ParameterOverride(
    check="av.scan_recent",
    role="office_pc",
    parameters=Parameters(windows_scan_logs=("C:\\ProgramData\\Huorong\\Sysdiag\\log.db",)),
)


@pytest.mark.parametrize("case", ["360_safe", "huorong", "kingsoft", "qianxin_outdated"])
def test_enabled_third_party_product_passes_av1(win: AuditFn, case: str) -> None:
    name, label = VENDORS[case]
    result = win("av.installed_running", runner=runner(av_products=case, mp_status="disabled"))
    assert result.status == "pass", result.reason
    assert name in result.reason and name in result.reason_zh
    product = next(p for p in result.evidence["security_center"] if p["name"] == name)
    assert product["vendor"] == label and product["enabled"] is True


def test_rising_switched_off_fails_av1(win: AuditFn) -> None:
    result = win("av.installed_running", runner=runner(av_products="rising_off", mp_status="disabled"))
    assert result.status == "fail"
    assert "瑞星杀毒软件" in result.reason
    rising = next(p for p in result.evidence["security_center"] if p["vendor"] == "Rising 瑞星")
    assert rising["product_state_hex"] == "0x040000" and rising["enabled"] is False


def test_product_state_bits_give_signature_currency_av2(win: AuditFn) -> None:
    for case in ("360_safe", "kingsoft"):
        assert win("av.signatures_current", runner=runner(av_products=case)).status == "pass"
    stale = win("av.signatures_current", runner=runner(av_products="qianxin_outdated"))
    assert stale.status == "fail" and "奇安信天擎" in stale.reason and "病毒库过期" in stale.reason_zh


def test_vendor_names_are_recognised_in_both_scripts() -> None:
    assert vendor("Huorong Internet Security") == "Huorong 火绒"
    assert vendor("Kingsoft Antivirus") == "Kingsoft 金山"
    assert vendor("Windows Defender") == "Microsoft Defender"
    assert vendor("Contoso AV") == ""


def with_file_times(case: str | None, **cases: Any) -> RecordedRunner:
    r = runner(**cases)
    if case is not None:
        r.outputs[(*POWERSHELL, FILE_TIMES)] = (FIXTURES / f"windows/file_times/{case}.json").read_bytes()
    return r


def test_third_party_scan_judged_from_its_scan_log_av3(win: AuditFn) -> None:
    cases = {"av_products": "huorong", "mp_status": "disabled"}
    recent = win(
        "av.scan_recent", runner=with_file_times("huorong_recent", **cases), overrides=[HUORONG_LOGS]
    )
    assert recent.status == "pass", recent.reason
    assert recent.evidence["last_scan_log"].endswith("log.db") and 0.9 < recent.evidence["age_days"] < 1.1
    old = win("av.scan_recent", runner=with_file_times("huorong_old", **cases), overrides=[HUORONG_LOGS])
    assert old.status == "fail" and "16 days ago" in old.reason and "16 天前" in old.reason_zh


def test_third_party_scan_without_configured_logs_is_an_error_not_defenders_verdict(win: AuditFn) -> None:
    result = win("av.scan_recent", runner=runner(av_products="huorong", mp_status="disabled"))
    assert result.status == "error"
    assert "windows_scan_logs" in result.reason


def test_missing_scan_log_fails(win: AuditFn) -> None:
    r = runner(av_products="huorong", mp_status="disabled")
    r.outputs[(*POWERSHELL, FILE_TIMES)] = b"[]"
    assert win("av.scan_recent", runner=r, overrides=[HUORONG_LOGS]).status == "fail"


def test_server_without_security_center_or_defender_uses_the_product_service(win: AuditFn) -> None:
    base = {"av_products": SERVER_NO_SECURITY_CENTER, "mp_status": "disabled"}
    running = win("av.installed_running", "server", runner=runner(services="huorong_running", **base))
    assert running.status == "pass", running.reason
    assert running.evidence["services"][0]["name"] == "HipsDaemon"
    stopped = win("av.installed_running", "server", runner=runner(services="huorong_stopped", **base))
    assert stopped.status == "fail" and "Huorong Internet Security Daemon" in stopped.reason
    nothing = win("av.installed_running", "server", runner=runner(services="none", **base))
    assert nothing.status == "fail" and "no antivirus" in nothing.reason


def test_unreadable_service_list_is_an_error(win: AuditFn) -> None:
    base = {"av_products": SERVER_NO_SECURITY_CENTER, "mp_status": "disabled"}
    r = runner(**base)
    del r.outputs[next(k for k in r.outputs if "Win32_Service" in k[-1])]
    assert win("av.installed_running", "server", runner=r).status == "error"
