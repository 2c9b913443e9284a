"""The shipped checks written as conditions (policies/library/checks_conditions.yaml): each
passes on a compliant system and fails on a broken one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conditions_kit import SeceditRunner, systemctl
from memory_registry import MemoryRegistry
from policies_kit import FIXTURES, NOW, RecordedRunner, write

from collectors.system.windows.registry import dword
from policies.context import AuditInputs, Target
from policies.engine import run_audit
from policies.library import Library
from policies.result import CheckResult

FIREWALL = r"HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy"
FIREWALL_GPO = r"HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall"
AUTORUN = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer"
NFTABLES_CONF = """#!/usr/sbin/nft -f
flush ruleset
table inet filter {
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tct state established,related accept
\t}
}
"""
TIME_UNITS = ("chrony.service", "chronyd.service", "systemd-timesyncd.service", "ntpsec.service")


def audit(
    library: Library,
    root: Path,
    check_id: str,
    *,
    platform: str = "linux",
    role: str = "office_pc",
    runner: Any = None,
    registry: Any = None,
    live: bool = True,
) -> CheckResult:
    target = Target("pc-01", role, platform, str(root), live)  # type: ignore[arg-type]
    inputs = AuditInputs(registry=registry)
    report = run_audit(library, target, runner or RecordedRunner({}), inputs, only=[check_id], now=NOW)
    (result,) = report.results
    return result


def units(states: dict[str, tuple[str, str]], names: tuple[str, ...]) -> RecordedRunner:
    """systemctl recordings: the given units in their states, every other one not found."""
    return RecordedRunner(dict(systemctl(n, *states.get(n, ("inactive", ""))) for n in names))


FIREWALL_UNITS = ("nftables.service", "ufw.service", "firewalld.service")


def test_linux_firewall_passes_with_nftables_dropping_input(library: Library, linux_root: Path) -> None:
    write(linux_root, "/etc/nftables.conf", NFTABLES_CONF)
    runner = units({"nftables.service": ("active", "enabled")}, FIREWALL_UNITS)
    result = audit(library, linux_root, "sys.firewall_on", runner=runner)
    assert result.status == "pass", result.reason


def test_linux_firewall_fails_when_nftables_accepts_and_nothing_else_runs(
    library: Library, linux_root: Path
) -> None:
    write(linux_root, "/etc/nftables.conf", NFTABLES_CONF.replace("policy drop", "policy accept"))
    runner = units(
        {"nftables.service": ("active", "enabled"), "firewalld.service": ("inactive", "disabled")},
        FIREWALL_UNITS,
    )
    result = audit(library, linux_root, "sys.firewall_on", runner=runner)
    assert result.status == "fail"
    assert (
        "/etc/nftables.conf: no line matches" in result.reason
        and "firewalld.service is not running" in result.reason
    )


def firewall_registry(public: int, gpo_public: int | None = None) -> MemoryRegistry:
    registry = MemoryRegistry()
    for profile, value in (("DomainProfile", 1), ("StandardProfile", 1), ("PublicProfile", public)):
        registry.set(f"{FIREWALL}\\{profile}", "EnableFirewall", dword(value))
    if gpo_public is not None:
        registry.set(f"{FIREWALL_GPO}\\PublicProfile", "EnableFirewall", dword(gpo_public))
    return registry


def test_windows_firewall_passes_on_in_every_profile(library: Library, linux_root: Path) -> None:
    result = audit(
        library, linux_root, "win.firewall_on", platform="windows", registry=firewall_registry(1, 1)
    )
    assert result.status == "pass", result.reason


def test_windows_firewall_fails_off_in_one_profile_or_by_group_policy(
    library: Library, linux_root: Path
) -> None:
    off = audit(library, linux_root, "win.firewall_on", platform="windows", registry=firewall_registry(0))
    assert off.status == "fail" and "PublicProfile\\EnableFirewall = 0, required = 1" in off.reason
    gpo = audit(library, linux_root, "win.firewall_on", platform="windows", registry=firewall_registry(1, 0))
    assert gpo.status == "fail" and "Policies\\Microsoft\\WindowsFirewall\\PublicProfile" in gpo.reason


def test_windows_guest_account_passes_off_and_fails_on(library: Library, linux_root: Path) -> None:
    secedit = FIXTURES / "windows" / "secedit"
    off = audit(
        library,
        linux_root,
        "win.guest_off",
        platform="windows",
        runner=SeceditRunner(secedit / "guest_off.inf"),
    )
    assert off.status == "pass", off.reason
    on = audit(
        library,
        linux_root,
        "win.guest_off",
        platform="windows",
        runner=SeceditRunner(secedit / "guest_on.inf"),
    )
    assert on.status == "fail" and on.reason == "[System Access] EnableGuestAccount = 1, required = 0"


def test_windows_autorun_passes_off_for_all_drives_and_fails_when_unset(
    library: Library, linux_root: Path
) -> None:
    registry = MemoryRegistry()
    unset = audit(library, linux_root, "win.autorun_off", platform="windows", registry=registry)
    assert unset.status == "fail" and "NoDriveTypeAutoRun is not set" in unset.reason
    registry.set(AUTORUN, "NoDriveTypeAutoRun", dword(255))
    assert (
        audit(library, linux_root, "win.autorun_off", platform="windows", registry=registry).status == "pass"
    )


def test_time_sync_passes_with_chrony_and_fails_with_no_sync_service(
    library: Library, linux_root: Path
) -> None:
    good = audit(
        library,
        linux_root,
        "sys.time_sync",
        runner=units({"chrony.service": ("active", "enabled")}, TIME_UNITS),
    )
    assert good.status == "pass", good.reason
    bad = audit(library, linux_root, "sys.time_sync", runner=units({}, TIME_UNITS))
    assert bad.status == "fail" and "chrony.service is not running" in bad.reason


def test_audit_logging_passes_with_auditd_fails_without_and_needs_the_running_system(
    library: Library, linux_root: Path
) -> None:
    names = ("auditd.service",)
    on = units({"auditd.service": ("active", "enabled")}, names)
    assert audit(library, linux_root, "sys.audit_logging", role="server", runner=on).status == "pass"
    off = audit(library, linux_root, "sys.audit_logging", role="server", runner=units({}, names))
    assert off.status == "fail" and "auditd.service does not start at boot" in off.reason
    offline = audit(library, linux_root, "sys.audit_logging", role="server", runner=on, live=False)
    assert offline.status == "not_applicable"
