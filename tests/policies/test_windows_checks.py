"""Windows checks on replayed PowerShell output (objects as JSON, never localized text); where
each output came from is in its fixture folder's SOURCES.md."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial

from policies_kit import FIXTURES, SILENT_CANARY, AuditFn, RecordedRunner
from windows_kit import SERVER_NO_SECURITY_CENTER, runner

from collectors.system.windows.powershell import POWERSHELL, ps_date
from collectors.system.windows.readers import SCRIPTS, decode_product_state, parse_usb_devices
from policies.context import Leaver


def test_product_state_decoding_matches_security_center() -> None:
    assert decode_product_state(397568) == (True, True)  # Defender on, current
    assert decode_product_state(393472) == (False, True)  # Defender off (third party took over)
    assert decode_product_state(266240) == (True, True)  # 火绒 on, current
    assert decode_product_state(266256) == (True, False)  # 360 on, signatures out of date


def test_powershell_dates_in_all_spellings() -> None:
    expected = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert ps_date("/Date(1700000000000)/") == expected
    assert ps_date({"value": "/Date(1700000000000)/", "DateTime": "Tuesday..."}) == expected
    assert ps_date("2023-11-14T22:13:20Z") == expected
    assert ps_date(None) is None


def test_usbstor_enum_names_give_vendor_product_serial() -> None:
    import json

    data = json.loads((FIXTURES / "windows/usb_devices/kingston.json").read_text())
    first = parse_usb_devices(data)[0]
    assert (first["vendor"], first["product"], first["serial"]) == (
        "Kingston",
        "DataTraveler 3.0",
        "60A44C413A8FF331B9850E4B",
    )


def test_usbstor_disabled_with_deny_policies_passes(win: AuditFn) -> None:
    result = win("usb.storage_blocked", runner=runner())
    assert result.status == "pass", result.reason
    assert result.evidence["usbstor_start"] == 4


def test_usbstor_enabled_fails(win: AuditFn) -> None:
    result = win("usb.storage_blocked", runner=runner(usbstor="open", removable_policy="none"))
    assert result.status == "fail"
    assert "USBSTOR Start is 3" in result.reason


def test_usb1_on_a_department_managers_pc_is_exempt_even_with_usb_open(win: AuditFn) -> None:
    open_usb = runner(usbstor="open", removable_policy="none")
    assert win("usb.storage_blocked", "manager_pc", runner=open_usb).status == "not_applicable"
    assert win("usb.storage_blocked", "office_pc", runner=open_usb).status == "fail"


def test_usbstor_never_set_fails_as_on_a_pc_that_never_saw_a_usb_disk(win: AuditFn) -> None:
    result = win("usb.storage_blocked", runner=runner(usbstor="absent"))
    assert result.status == "fail"
    assert result.evidence["usbstor_start"] is None
    assert "USBSTOR Start is not set" in result.reason
    assert "USBSTOR 的 Start 未以 DWORD 设置" in result.reason_zh


def test_usbstor_start_written_as_text_is_not_a_disabled_driver(win: AuditFn) -> None:
    result = win("usb.storage_blocked", runner=runner(usbstor="as_text"))
    assert result.status == "fail" and "USBSTOR Start is not set" in result.reason


def test_removable_disks_denied_only_for_writing_fail_naming_the_class(win: AuditFn) -> None:
    result = win("usb.storage_blocked", runner=runner(removable_policy="read_only"))
    assert result.status == "fail"
    assert "no deny policy for classes {53f5630d-b6bf-11d0-94f2-00a0c91efb8b}" in result.reason
    assert result.evidence["denied_classes"] == sorted(
        ["{6ac27878-a6fa-4155-ba85-f98f491d4f33}", "{f33fdc04-d1ac-4e8e-9a30-19bbd4b108ae}"]
    )


def test_clinical_terminal_needs_cd_and_floppy_deny_too(win: AuditFn) -> None:
    assert win("usb.media_blocked_clinical", "clinical_terminal", runner=runner()).status == "fail"
    assert (
        win(
            "usb.media_blocked_clinical", "clinical_terminal", runner=runner(removable_policy="deny_all")
        ).status
        == "pass"
    )


def test_usb_media_scanned_with_defender_on_access(win: AuditFn) -> None:
    result = win("usb.media_scanned", "manager_pc", runner=runner())
    assert result.status == "pass"
    assert len(result.evidence["usb_storage_devices"]) == 2


def test_usb_media_unscanned_when_realtime_protection_off(win: AuditFn) -> None:
    assert win("usb.media_scanned", "manager_pc", runner=runner(mp_status="stale")).status == "fail"


def test_defender_on_passes_antivirus_installed(win: AuditFn) -> None:
    assert win("av.installed_running", runner=runner()).status == "pass"


def test_huorong_counts_as_installed_antivirus(win: AuditFn) -> None:
    result = win("av.installed_running", runner=runner(av_products="huorong"))
    assert result.status == "pass"
    assert "火绒安全软件" in result.reason


def test_antivirus_all_off_fails(win: AuditFn) -> None:
    assert (
        win("av.installed_running", runner=runner(av_products="all_off", mp_status="disabled")).status
        == "fail"
    )


def test_server_without_security_center_falls_back_to_defender(win: AuditFn) -> None:
    result = win("av.installed_running", "server", runner=runner(av_products=SERVER_NO_SECURITY_CENTER))
    assert result.status == "pass"
    assert "Security Center absent" in result.reason
    failed = win(
        "av.installed_running",
        "server",
        runner=runner(av_products=SERVER_NO_SECURITY_CENTER, mp_status="disabled"),
    )
    assert failed.status == "fail"


def test_defender_signatures_fresh_pass_and_stale_fail(win: AuditFn) -> None:
    assert win("av.signatures_current", runner=runner()).status == "pass"
    stale = win("av.signatures_current", runner=runner(mp_status="stale"))
    assert stale.status == "fail"
    assert "12 days old" in stale.reason


def test_third_party_signature_state_is_judged_by_security_center(win: AuditFn) -> None:
    assert win("av.signatures_current", runner=runner(av_products="huorong")).status == "pass"
    result = win("av.signatures_current", runner=runner(av_products="360_outdated"))
    assert result.status == "fail"
    assert "360杀毒" in result.reason


def test_recent_quick_scan_passes_and_old_fails(win: AuditFn) -> None:
    assert win("av.scan_recent", runner=runner()).status == "pass"
    assert win("av.scan_recent", runner=runner(mp_status="stale")).status == "fail"


def test_recent_hotfix_passes_and_old_fails(win: AuditFn) -> None:
    result = win("patch.os_updated", runner=runner())
    assert result.status == "pass"
    assert result.evidence["latest"] == "KB5032189"
    assert win("patch.os_updated", runner=runner(hotfixes="old")).status == "fail"


def test_password_age_and_expiry_pass_and_fail(win: AuditFn) -> None:
    assert win("pwd.max_age", runner=runner()).status == "pass"
    result = win("pwd.max_age", runner=runner(local_users="noncompliant"))
    assert result.status == "fail"
    assert "zhangwei: password never expires" in result.reason


def test_account_without_required_password_fails(win: AuditFn) -> None:
    assert win("pwd.login_password_set", runner=runner()).status == "pass"
    result = win("pwd.login_password_set", runner=runner(local_users="noncompliant"))
    assert result.status == "fail"
    assert result.evidence["password_not_required"] == ["Guest", "chenjing"]


def test_leaver_enabled_on_windows_fails(win: AuditFn) -> None:
    leaver = (Leaver("刘洋", "liuyang", date(2026, 10, 31)),)
    assert win("acc.leavers_disabled", runner=runner(), leavers=leaver).status == "fail"
    gone = (Leaver("王芳", "wangfang", date(2026, 10, 31)),)
    assert win("acc.leavers_disabled", runner=runner(), leavers=gone).status == "pass"


def test_enabled_guest_account_fails_shared_accounts(win: AuditFn) -> None:
    assert win("acc.no_shared_accounts", runner=runner()).status == "pass"
    assert win("acc.no_shared_accounts", runner=runner(local_users="noncompliant")).status == "fail"


def test_inactivity_lock_pass_and_fail(win: AuditFn) -> None:
    assert win("lock.screen_lock", runner=runner()).status == "pass"
    assert win("lock.screen_lock", runner=runner(screen_lock="none")).status == "fail"


def test_chinese_game_and_remote_tools_fail(win: AuditFn) -> None:
    assert win("sw.no_forbidden_software", runner=runner()).status == "pass"
    result = win("sw.no_forbidden_software", runner=runner(programs="games", processes="todesk"))
    assert result.status == "fail"
    assert set(result.evidence["installed"]) == {"英雄联盟", "向日葵远程控制"}
    assert set(result.evidence["running"]) == {"ToDesk", "ToDesk_Service"}


def test_wireshark_and_colasoft_fail_scanner_check(win: AuditFn) -> None:
    assert win("sw.no_network_scanners", runner=runner()).status == "pass"
    result = win("sw.no_network_scanners", runner=runner(programs="games"))
    assert set(result.evidence["installed"]) == {"Wireshark 4.2.0 64-bit", "科来网络分析系统"}


def test_listening_vnc_fails_role_allow_list(win: AuditFn) -> None:
    result = win("sw.role_allow_list", "insurance_terminal", runner=runner(listeners="vnc"))
    assert result.status == "fail"
    assert result.evidence["not_allowed"] == ["0.0.0.0:135", ":::5900"]


def test_wired_only_insurance_terminal_passes_isolation(win: AuditFn) -> None:
    result = win(
        "net.insurance_isolated",
        "insurance_terminal",
        runner=runner(),
        isolation=SILENT_CANARY,
    )
    assert result.status == "pass", result.reason


def test_wifi_with_default_route_fails_isolation(win: AuditFn) -> None:
    result = win("net.insurance_isolated", "insurance_terminal", runner=runner(network="wifi_up"))
    assert result.status == "fail"
    assert "wireless interface WLAN is up" in result.reason
    assert "route to default via 192.168.31.1" in result.reason


def test_missing_powershell_is_an_error_never_a_pass(win: AuditFn) -> None:
    result = win("pwd.max_age", runner=RecordedRunner({}))
    assert result.status == "error"


def test_usb_checks_off_windows_without_recorded_registry_values_are_an_error(win: AuditFn) -> None:
    result = win("usb.storage_blocked", runner=RecordedRunner({}))
    assert result.status == "error"
    assert "no registry to read" in result.reason and "没有可读取的注册表" in result.reason_zh


def test_windows_usb_lockdown_sets_each_registry_value_once_and_a_second_run_changes_nothing() -> None:
    from memory_registry import MemoryRegistry

    from collectors.system.windows.registry import dword
    from policies.context import AuditInputs, Target
    from policies.enforce import enforce
    from policies.enforce_windows import REMOVABLE, USBSTOR
    from policies.library import load_library

    library, _ = load_library()
    registry = MemoryRegistry()
    registry.set(USBSTOR, "Start", dword(3))
    target = Target("pc-01", "office_pc", "windows", "C:\\")
    run = partial(
        enforce, library, target, RecordedRunner({}), AuditInputs(), opted_in=["usb.storage_blocked"]
    )
    dry = run(dry_run=True, registry=registry)
    assert [c.result for c in dry] == [None]
    assert dry[0].changes["values"][0] == {"key": USBSTOR, "name": "Start", "old": 3, "new": 4}
    assert registry.get(USBSTOR, "Start") == dword(3)
    done = run(registry=registry)
    assert done[0].result is True and len(done[0].changes["values"]) == 8
    assert registry.get(USBSTOR, "Start") == dword(4)
    disk = REMOVABLE + "\\{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"
    assert [registry.get(disk, n) for n in ("Deny_Read", "Deny_Write", "Deny_Execute")] == [dword(1)] * 3
    again = run(registry=registry)
    assert [(c.result, c.changes, c.comment) for c in again] == [(True, {}, "already in place")]


def test_a_registry_value_of_the_wrong_type_is_replaced_by_the_lockdown() -> None:
    from memory_registry import MemoryRegistry

    from collectors.system.windows.registry import REG_SZ, RegValue
    from policies.context import AuditInputs, Target
    from policies.enforce import enforce
    from policies.enforce_windows import USBSTOR
    from policies.library import load_library

    library, _ = load_library()
    registry = MemoryRegistry()
    registry.set(USBSTOR, "Start", RegValue(REG_SZ, "4"))  # looks right, is not a DWORD
    target = Target("pc-01", "office_pc", "windows", "C:\\")
    done = enforce(
        library,
        target,
        RecordedRunner({}),
        AuditInputs(),
        opted_in=["usb.storage_blocked"],
        registry=registry,
    )
    assert done[0].changes["values"][0]["old"] == "4"
    assert registry.get(USBSTOR, "Start") == RegValue(4, 4)


def test_after_hours_check_needs_no_tool_on_windows(win: AuditFn) -> None:
    evening = datetime(2026, 11, 20, 21, 30).astimezone()  # a Friday night, local time
    result = win("lock.off_after_hours", runner=RecordedRunner({}), now=evening)
    assert result.status == "fail"
    assert "boot_time" not in result.evidence
    morning = datetime(2026, 11, 20, 9, 0).astimezone()
    assert win("lock.off_after_hours", runner=RecordedRunner({}), now=morning).status == "pass"


def test_windows_rpc_ports_allowed_by_role_override_pass(win: AuditFn) -> None:
    from policies.config import ParameterOverride
    from policies.schema import Parameters

    rpc = ParameterOverride(
        check="sw.role_allow_list", role="insurance_terminal", parameters=Parameters(allowed_ports=(135, 445))
    )
    result = win("sw.role_allow_list", "insurance_terminal", runner=runner(), overrides=[rpc])
    assert result.status == "pass", result.reason
    assert win(
        "sw.role_allow_list", "insurance_terminal", runner=runner(listeners="vnc"), overrides=[rpc]
    ).evidence["not_allowed"] == [":::5900"]


def test_windows_leaver_disabled_with_the_name_passed_as_data() -> None:
    from collectors.system.windows.changes import SCRIPTS as CHANGE_SCRIPTS
    from policies.context import AuditInputs, Target
    from policies.enforce import enforce
    from policies.library import load_library

    library, _ = load_library()
    disable = (*POWERSHELL, CHANGE_SCRIPTS["disable_user"])
    host = runner()
    host.outputs[disable] = b""
    leavers = (Leaver("刘洋", "liuyang", date(2026, 10, 31)), Leaver("王芳", "wangfang", date(2026, 9, 1)))
    target = Target("pc-01", "office_pc", "windows", "C:\\")
    done = enforce(library, target, host, AuditInputs(leavers=leavers), opted_in=["acc.leavers_disabled"])
    assert [(c.name, c.result, c.comment) for c in done] == [
        ("account liuyang", True, "changed"),
        ("account wangfang", True, "no such account"),
    ]
    assert "liuyang" not in " ".join(host.calls[-1])
    assert host.envs[-1] == {"HOSTWARD_ACCOUNT": "liuyang"}


def test_windows_password_policy_enforced_then_nothing_left() -> None:
    from collectors.system.windows.changes import SCRIPTS as CHANGE_SCRIPTS
    from policies.context import AuditInputs, Target
    from policies.enforce import enforce
    from policies.library import load_library

    library, _ = load_library()
    never = (*POWERSHELL, CHANGE_SCRIPTS["password_expires"])
    host = runner(local_users="noncompliant")
    host.outputs[never] = b""
    target = Target("pc-01", "office_pc", "windows", "C:\\")
    done = enforce(library, target, host, AuditInputs(), opted_in=["pwd.max_age"])
    changed = {c.name: c.result for c in done if c.changes}
    assert changed == {"account zhangwei": True, "account chenjing": True}
    assert host.envs[-2:] == [{"HOSTWARD_ACCOUNT": "zhangwei"}, {"HOSTWARD_ACCOUNT": "chenjing"}]
    again = enforce(library, target, runner(), AuditInputs(), opted_in=["pwd.max_age"])
    assert [(c.result, c.changes) for c in again] == [(True, {})]


def test_windows_password_lifetime_over_limit_sets_maxpwage() -> None:
    import json as _json

    from policies.context import AuditInputs, Target
    from policies.enforce import enforce
    from policies.library import load_library

    users = _json.loads((FIXTURES / "windows/local_users/compliant.json").read_text())
    last_set = ps_date(users[5]["PasswordLastSet"])
    assert last_set is not None
    users[5]["PasswordExpires"] = f"/Date({int(last_set.timestamp() + 120 * 86400) * 1000})/"
    host = runner()
    host.outputs[(*POWERSHELL, SCRIPTS["local_users"])] = _json.dumps(users).encode()
    host.outputs[("net.exe", "accounts", "/maxpwage:90")] = b""
    library, _ = load_library()
    done = enforce(
        library,
        Target("pc-01", "office_pc", "windows", "C:\\"),
        host,
        AuditInputs(),
        opted_in=["pwd.max_age"],
    )
    assert [(c.name, c.result, c.changes) for c in done] == [
        ("local password policy", True, {"maxpwage_days": 90, "accounts": ["liuyang"]})
    ]
    assert host.calls[-1] == ("net.exe", "accounts", "/maxpwage:90")


def test_windows_wifi_adapter_disabled_on_insurance_terminal() -> None:
    from collectors.system.windows.changes import SCRIPTS as CHANGE_SCRIPTS
    from policies.context import AuditInputs, Target
    from policies.enforce import enforce
    from policies.library import load_library

    library, _ = load_library()
    disable = (*POWERSHELL, CHANGE_SCRIPTS["disable_adapter"])
    host = runner(network="wifi_up")
    host.outputs[disable] = b""
    target = Target("pc-01", "insurance_terminal", "windows", "C:\\")
    done = enforce(library, target, host, AuditInputs(), opted_in=["net.insurance_isolated"])
    assert [(c.name, c.result) for c in done if c.changes] == [("interface WLAN", True)]
    assert host.envs[-1] == {"HOSTWARD_ADAPTER": "WLAN"}
    again = enforce(library, target, runner(), AuditInputs(), opted_in=["net.insurance_isolated"])
    assert [(c.result, c.changes) for c in again] == [(True, {})]
