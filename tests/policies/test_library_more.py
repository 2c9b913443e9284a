"""The checks added to reach a library of 40+: each passes on a compliant system and fails on a
broken one (Linux on disk trees, Windows on recorded secedit exports, registry values and
Uninstall-key listings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conditions_kit import SeceditRunner, systemctl
from memory_registry import MemoryRegistry
from policies_kit import FIXTURES, NOW, AuditFn, RecordedRunner, write

from collectors.system.windows.powershell import POWERSHELL
from collectors.system.windows.readers import SCRIPTS
from collectors.system.windows.registry import dword
from policies.context import AuditInputs, Target
from policies.engine import run_audit
from policies.library import Library
from policies.result import CheckResult

SECEDIT = FIXTURES / "windows" / "secedit"
PROGRAMS = FIXTURES / "windows" / "programs"
EXPLORER = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer"
SYSTEM = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System"


def test_the_shipped_library_holds_at_least_forty_checks(library: Library) -> None:
    assert len(library.checks) >= 40


def secedit_with(tmp_path: Path, **values: str) -> SeceditRunner:
    """The recorded compliant export with some `Key = value` lines changed."""
    text = (SECEDIT / "guest_off.inf").read_bytes().decode("utf-16")
    lines = text.split("\r\n")
    for key, value in values.items():
        lines = [f"{key} = {value}" if line.split(" = ")[0] == key else line for line in lines]
    out = tmp_path / "changed.inf"
    out.write_bytes("\r\n".join(lines).encode("utf-16"))
    return SeceditRunner(out)


@pytest.mark.parametrize(
    ("check_id", "broken", "reason"),
    [
        ("win.password_complexity", {"PasswordComplexity": "0"}, "PasswordComplexity = 0, required = 1"),
        (
            "win.password_complexity",
            {"MinimumPasswordLength": "6"},
            "MinimumPasswordLength = 6, required >= 8",
        ),
        ("win.account_lockout", {"LockoutBadCount": "0"}, "LockoutBadCount = 0, required >= 1, <= 10"),
        ("win.password_max_age", {"MaximumPasswordAge": "-1"}, "MaximumPasswordAge = -1, required >= 1"),
        ("win.audit_logon", {"AuditAccountLogon": "1"}, "AuditAccountLogon = 1, required = 3"),
    ],
)
def test_windows_security_policy_checks_pass_on_the_recorded_export_and_fail_when_weakened(
    check: AuditFn, tmp_path: Path, linux_root: Path, check_id: str, broken: dict[str, str], reason: str
) -> None:
    good = check(linux_root, check_id, platform="windows", runner=SeceditRunner(SECEDIT / "guest_off.inf"))
    assert good.status == "pass", good.reason
    bad = check(linux_root, check_id, platform="windows", runner=secedit_with(tmp_path, **broken))
    assert bad.status == "fail" and reason in bad.reason


def registry_check(
    library: Library, root: Path, check_id: str, key: str, name: str, value: int | None
) -> CheckResult:
    """`check_id` on Windows with one recorded registry value (None: not set)."""
    registry = MemoryRegistry()
    if value is not None:
        registry.set(key, name, dword(value))
    target = Target("pc-01", "office_pc", "windows", str(root), True)
    report = run_audit(
        library, target, RecordedRunner({}), AuditInputs(registry=registry), only=[check_id], now=NOW
    )
    (result,) = report.results
    return result


def test_autorun_inf_is_ignored_only_with_noautorun_one(library: Library, linux_root: Path) -> None:
    on = registry_check(library, linux_root, "win.autorun_inf_off", EXPLORER, "NoAutorun", 1)
    assert on.status == "pass", on.reason
    unset = registry_check(library, linux_root, "win.autorun_inf_off", EXPLORER, "NoAutorun", None)
    assert unset.status == "fail" and "NoAutorun is not set" in unset.reason


def test_machine_inactivity_limit_passes_at_900_seconds_and_fails_above_or_at_zero(
    library: Library, linux_root: Path
) -> None:
    name = "InactivityTimeoutSecs"
    ok = registry_check(library, linux_root, "win.screensaver_password", SYSTEM, name, 900)
    assert ok.status == "pass", ok.reason
    for value in (901, 0):
        bad = registry_check(library, linux_root, "win.screensaver_password", SYSTEM, name, value)
        assert bad.status == "fail" and f"{name} = {value}" in bad.reason


def programs(machine: str, user: bytes = b"[]") -> RecordedRunner:
    return RecordedRunner(
        {
            (*POWERSHELL, SCRIPTS["programs"]): (PROGRAMS / machine).read_bytes(),
            (*POWERSHELL, SCRIPTS["user_programs"]): user,
        }
    )


def test_game_catalogue_finds_a_chinese_game_and_one_installed_for_one_user_only(
    check: AuditFn, linux_root: Path
) -> None:
    assert (
        check(linux_root, "sw.no_games", platform="windows", runner=programs("clean.json")).status == "pass"
    )
    machine = check(linux_root, "sw.no_games", platform="windows", runner=programs("games.json"))
    assert machine.status == "fail" and "英雄联盟" in machine.reason
    user = '[{"DisplayName": "王者荣耀模拟器版", "DisplayVersion": "1.0"}]'.encode()
    per_user = check(linux_root, "sw.no_games", platform="windows", runner=programs("clean.json", user))
    assert per_user.status == "fail" and "王者荣耀模拟器版" in per_user.reason


def test_game_catalogue_reads_dpkg_names_on_linux(check: AuditFn, linux_root: Path) -> None:
    assert check(linux_root, "sw.no_games", runner=RecordedRunner({})).status == "pass"
    status = linux_root / "var/lib/dpkg/status"
    status.write_text(
        status.read_text() + "\nPackage: aisleriot\nStatus: install ok installed\nVersion: 3.22\n"
    )
    bad = check(linux_root, "sw.no_games", runner=RecordedRunner({}))
    assert bad.status == "fail" and "aisleriot" in bad.reason


def test_messengers_fail_on_a_clinical_terminal_and_do_not_apply_to_office_pcs(
    check: AuditFn, linux_root: Path
) -> None:
    wechat = '[{"DisplayName": "微信", "DisplayVersion": "3.9.8.25"}]'.encode()
    terminal = check(
        linux_root,
        "sw.no_im_on_dedicated",
        role="clinical_terminal",
        platform="windows",
        runner=programs("clean.json", wechat),
    )
    assert terminal.status == "fail" and "微信" in terminal.reason
    office = check(
        linux_root, "sw.no_im_on_dedicated", platform="windows", runner=programs("clean.json", wechat)
    )
    assert office.status == "not_applicable"
    clean = check(
        linux_root,
        "sw.no_im_on_dedicated",
        role="clinical_terminal",
        platform="windows",
        runner=programs("clean.json"),
    )
    assert clean.status == "pass", clean.reason


PWQUALITY = "# hostward\nminlen = 8\nminclass = 3\n"
COMMON_PASSWORD = (
    "password\trequisite\tpam_pwquality.so retry=3\n"
    "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\n"
)


def test_linux_password_complexity_passes_with_pwquality_and_fails_on_short_minlen(
    check: AuditFn, linux_root: Path
) -> None:
    write(linux_root, "/etc/security/pwquality.conf", PWQUALITY)
    write(linux_root, "/etc/pam.d/common-password", COMMON_PASSWORD)
    assert check(linux_root, "pwd.complexity_linux").status == "pass"
    write(linux_root, "/etc/security/pwquality.conf", "minlen = 6\nminclass = 3\n")
    bad = check(linux_root, "pwd.complexity_linux")
    assert bad.status == "fail" and "pwquality.conf: no line matches" in bad.reason


def test_linux_lockout_passes_with_faillock_in_pam_and_fails_when_pam_skips_it(
    check: AuditFn, linux_root: Path
) -> None:
    write(linux_root, "/etc/security/faillock.conf", "deny = 5\nunlock_time = 900\n")
    write(
        linux_root,
        "/etc/pam.d/common-auth",
        "auth required pam_faillock.so preauth\nauth [success=1 default=ignore] pam_unix.so\n",
    )
    assert check(linux_root, "pwd.lockout_linux").status == "pass"
    write(linux_root, "/etc/pam.d/common-auth", "auth [success=1 default=ignore] pam_unix.so\n")
    bad = check(linux_root, "pwd.lockout_linux")
    assert bad.status == "fail" and "common-auth: no line matches" in bad.reason


def test_ssh_root_login_passes_with_no_and_fails_with_a_later_yes(check: AuditFn, linux_root: Path) -> None:
    write(linux_root, "/etc/ssh/sshd_config", "PermitRootLogin no\nUsePAM yes\n")
    assert check(linux_root, "ssh.root_login_off").status == "pass"
    write(linux_root, "/etc/ssh/sshd_config", "PermitRootLogin no\nPermitRootLogin yes\n")
    bad = check(linux_root, "ssh.root_login_off")
    assert bad.status == "fail" and "'PermitRootLogin yes'" in bad.reason


def test_ssh_empty_passwords_fail_only_when_permitted(check: AuditFn, linux_root: Path) -> None:
    write(linux_root, "/etc/ssh/sshd_config", "PermitEmptyPasswords no\n")
    assert check(linux_root, "ssh.no_empty_passwords").status == "pass"
    write(linux_root, "/etc/ssh/sshd_config", "PermitEmptyPasswords yes\n")
    assert check(linux_root, "ssh.no_empty_passwords").status == "fail"


def test_linux_guest_fails_with_a_guest_shell_or_lightdm_guest_sessions(
    check: AuditFn, linux_root: Path
) -> None:
    assert check(linux_root, "acc.guest_off_linux").status == "pass"
    passwd = linux_root / "etc/passwd"
    clean = passwd.read_text()
    passwd.write_text(clean + "guest:x:1500:1500::/home/guest:/bin/bash\n")
    assert check(linux_root, "acc.guest_off_linux").status == "fail"
    passwd.write_text(clean + "guest:x:1500:1500::/home/guest:/usr/sbin/nologin\n")
    assert check(linux_root, "acc.guest_off_linux").status == "pass"
    write(linux_root, "/etc/lightdm/lightdm.conf", "[Seat:*]\nallow-guest=true\n")
    assert check(linux_root, "acc.guest_off_linux").status == "fail"


def freshclam(active: str, enabled: str) -> RecordedRunner:
    return RecordedRunner(dict([systemctl("clamav-freshclam.service", active, enabled)]))


def test_signature_auto_update_needs_freshclam_running_with_checks_on(
    check: AuditFn, linux_root: Path
) -> None:
    write(linux_root, "/etc/clamav/freshclam.conf", "DatabaseMirror database.clamav.net\nChecks 24\n")
    assert check(linux_root, "av.auto_update_linux", runner=freshclam("active", "enabled")).status == "pass"
    stopped = check(linux_root, "av.auto_update_linux", runner=freshclam("inactive", "disabled"))
    assert stopped.status == "fail" and "clamav-freshclam.service is not running" in stopped.reason
    write(linux_root, "/etc/clamav/freshclam.conf", "Checks 0\n")
    assert check(linux_root, "av.auto_update_linux", runner=freshclam("active", "enabled")).status == "fail"


def test_gnome_lock_passes_without_gnome_fails_unlocked_and_passes_locked(
    check: AuditFn, linux_root: Path
) -> None:
    assert check(linux_root, "lock.gnome_lock_enforced").status == "pass"
    status = linux_root / "var/lib/dpkg/status"
    status.write_text(
        status.read_text() + "\nPackage: gnome-shell\nStatus: install ok installed\nVersion: 43.9\n"
    )
    assert check(linux_root, "lock.gnome_lock_enforced").status == "fail"
    write(
        linux_root,
        "/etc/dconf/db/local.d/00-hostward-lock",
        "[org/gnome/desktop/screensaver]\nlock-enabled=true\n",
    )
    write(
        linux_root,
        "/etc/dconf/db/local.d/locks/hostward-lock",
        "/org/gnome/desktop/screensaver/lock-enabled\n",
    )
    assert check(linux_root, "lock.gnome_lock_enforced").status == "pass"


def test_ip_forwarding_fails_when_running_on_or_not_configured_off(check: AuditFn, linux_root: Path) -> None:
    write(linux_root, "/proc/sys/net/ipv4/ip_forward", "1\n")
    write(linux_root, "/etc/sysctl.d/60-hostward-noforward.conf", "net.ipv4.ip_forward = 0\n")
    on = check(linux_root, "net.no_ip_forwarding")
    assert on.status == "fail" and "net.ipv4.ip_forward is 1 now" in on.reason
    write(linux_root, "/proc/sys/net/ipv4/ip_forward", "0\n")
    assert check(linux_root, "net.no_ip_forwarding").status == "pass"
    (linux_root / "etc/sysctl.d/60-hostward-noforward.conf").unlink()
    assert check(linux_root, "net.no_ip_forwarding").status == "fail"
