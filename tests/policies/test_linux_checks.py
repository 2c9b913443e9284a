"""Every Linux check passes on a compliant root tree and fails when one thing is broken."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from policies_kit import NOW, TODAY, AuditFn, cvd_header, local, write

from policies.context import Leaver


def test_compliant_root_passes_usb_lockdown(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "usb.storage_blocked")
    assert result.status == "pass", result.reason
    assert result.evidence["modules"]["usb_storage"]["install"] == "/bin/false"
    assert result.rules == ("USB-1",)


def test_usb_storage_loadable_without_install_override_fails(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/etc/modprobe.d/hostward-usb.conf", "blacklist usb-storage\nblacklist uas\n")
    result = check(linux_root, "usb.storage_blocked")
    assert result.status == "fail"
    assert "usb_storage can be loaded" in result.reason


def test_usb_storage_module_loaded_fails(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/proc/modules", "usb_storage 81920 0 - Live 0x0\n")
    result = check(linux_root, "usb.storage_blocked")
    assert result.status == "fail"
    assert "usb_storage is loaded now" in result.reason


def test_mounted_removable_medium_fails(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/sys/block/sdb/removable", "1\n")
    write(
        linux_root, "/proc/mounts", "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /media/alice/KINGSTON vfat rw 0 0\n"
    )
    result = check(linux_root, "usb.storage_blocked")
    assert result.status == "fail"
    assert result.evidence["removable_mounts"][0]["device"] == "/dev/sdb1"


def test_usbguard_rule_allowing_mass_storage_fails(linux_root: Path, check: AuditFn) -> None:
    write(
        linux_root,
        "/etc/usbguard/usbguard-daemon.conf",
        "RuleFile=/etc/usbguard/rules.conf\nImplicitPolicyTarget=block\n",
    )
    write(linux_root, "/etc/usbguard/rules.conf", "allow with-interface equals { 08:06:50 }\n")
    assert check(linux_root, "usb.storage_blocked").status == "fail"


def test_manager_pc_is_exempt_from_usb_lockdown(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/etc/modprobe.d/hostward-usb.conf", "")
    result = check(linux_root, "usb.storage_blocked", role="manager_pc")
    assert result.status == "not_applicable"


def test_clinical_terminal_needs_optical_and_floppy_blocked(linux_root: Path, check: AuditFn) -> None:
    assert check(linux_root, "usb.media_blocked_clinical", role="clinical_terminal").status == "pass"
    write(
        linux_root,
        "/etc/modprobe.d/hostward-usb.conf",
        "install usb-storage /bin/false\nblacklist usb-storage\ninstall uas /bin/false\nblacklist uas\n",
    )
    result = check(linux_root, "usb.media_blocked_clinical", role="clinical_terminal")
    assert result.status == "fail"
    assert "sr_mod can be loaded" in result.reason


def test_usb_media_scanned_on_manager_pc_passes_and_records_devices(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "usb.media_scanned", role="manager_pc")
    assert result.status == "pass", result.reason
    device = result.evidence["usb_storage_devices"][0]
    assert (device["vendor"], device["product"], device["serial"]) == (
        "Kingston",
        "DataTraveler 3.0",
        "60A44C413A8F",
    )


def test_usb_media_without_on_access_scanning_fails(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/etc/clamav/clamd.conf", "LocalSocket /run/clamav/clamd.ctl\n")
    assert check(linux_root, "usb.media_scanned", role="manager_pc").status == "fail"


def test_antivirus_installed_and_running_passes(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "av.installed_running")
    assert result.status == "pass"
    assert result.evidence["running"] == ["clamd", "freshclam"]


def test_antivirus_installed_but_stopped_fails(linux_root: Path, check: AuditFn) -> None:
    os.remove(linux_root / "proc/101/comm")
    os.remove(linux_root / "proc/102/comm")
    result = check(linux_root, "av.installed_running")
    assert result.status == "fail"
    assert "not running" in result.reason


def test_antivirus_missing_fails(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/var/lib/dpkg/status", "Package: vim\nStatus: install ok installed\nVersion: 9\n")
    assert check(linux_root, "av.installed_running").status == "fail"


def test_fresh_signatures_pass(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "av.signatures_current")
    assert result.status == "pass"
    assert result.evidence["age_days"] == pytest.approx(1.0, abs=0.01)


def test_old_signatures_fail(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/var/lib/clamav/daily.cvd", cvd_header(NOW - timedelta(days=9)))
    result = check(linux_root, "av.signatures_current")
    assert result.status == "fail"
    assert "9 days old (limit 3)" in result.reason


def test_newer_cld_wins_over_older_cvd(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/var/lib/clamav/daily.cvd", cvd_header(NOW - timedelta(days=20), version=27000))
    write(linux_root, "/var/lib/clamav/daily.cld", cvd_header(NOW - timedelta(hours=5), version=27105))
    assert check(linux_root, "av.signatures_current").status == "pass"


def test_missing_signature_database_fails(linux_root: Path, check: AuditFn) -> None:
    for name in ("daily.cvd", "main.cvd"):
        os.remove(linux_root / "var/lib/clamav" / name)
    assert check(linux_root, "av.signatures_current").status == "fail"


def test_garbage_database_header_is_an_error_not_a_pass(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/var/lib/clamav/daily.cvd", b"\x1f\x8b not a header" * 40)
    assert check(linux_root, "av.signatures_current").status == "error"


def test_recent_scan_passes(linux_root: Path, check: AuditFn) -> None:
    assert check(linux_root, "av.scan_recent").status == "pass"


def test_old_scan_fails(linux_root: Path, check: AuditFn) -> None:
    old = NOW - timedelta(days=20)
    write(linux_root, "/var/log/clamav/clamscan.log", f"End Date:   {local(old, '%Y:%m:%d %H:%M:%S')}\n")
    assert check(linux_root, "av.scan_recent").status == "fail"


def test_recent_apt_upgrade_passes(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "patch.os_updated")
    assert result.status == "pass"
    assert result.evidence["sources"] == ["/var/log/apt/history.log"]


def test_upgrade_two_months_ago_fails(linux_root: Path, check: AuditFn) -> None:
    old = NOW - timedelta(days=62)
    write(
        linux_root,
        "/var/log/apt/history.log",
        f"Start-Date: {local(old, '%Y-%m-%d  %H:%M:%S')}\n"
        "Commandline: apt-get upgrade\nUpgrade: a:amd64 (1, 2)\n"
        f"End-Date: {local(old, '%Y-%m-%d  %H:%M:%S')}\n",
    )
    write(linux_root, "/var/log/dpkg.log", f"{local(old, '%Y-%m-%d %H:%M:%S')} upgrade a:amd64 1 2\n")
    result = check(linux_root, "patch.os_updated")
    assert result.status == "fail"
    assert "limit 31" in result.reason


def test_passwords_within_ninety_days_pass(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "pwd.max_age")
    assert result.status == "pass", result.reason
    assert result.evidence["accounts"]["alice"]["password_age_days"] == 10
    assert "$6$" not in str(result.evidence)  # hashes never leave the reader


def test_old_password_fails(linux_root: Path, check: AuditFn) -> None:
    shadow = (linux_root / "etc/shadow").read_text().replace(f"{TODAY - 30}:0:60", f"{TODAY - 120}:0:60")
    write(linux_root, "/etc/shadow", shadow)
    result = check(linux_root, "pwd.max_age")
    assert result.status == "fail"
    assert "bob: password is 120 days old" in result.reason


def test_unlimited_max_age_policy_fails(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    assert check(linux_root, "pwd.max_age").status == "fail"


def test_locked_account_is_not_judged_by_password_age(linux_root: Path, check: AuditFn) -> None:
    write(
        linux_root,
        "/etc/shadow",
        (linux_root / "etc/shadow")
        .read_text()
        .replace(f"bob:$6$salt$hash:{TODAY - 30}", "bob:!$6$salt$hash:100"),
    )
    result = check(linux_root, "pwd.max_age")
    assert result.status == "pass"
    assert "bob" in result.evidence["not_judged_no_password_login"]


UNPRIVILEGED_CHILD = """
import json, sys
from collectors.system.runner import SubprocessRunner
from policies.context import Target
from policies.engine import run_audit
from policies.library import load_library
library, _ = load_library()
report = run_audit(library, Target("pc", "office_pc", "linux", sys.argv[1]), SubprocessRunner(),
                   only=["pwd.max_age", "pwd.login_password_set"])
print(json.dumps([[r.status, r.reason] for r in report.results]))
"""


def test_unreadable_shadow_is_an_error_for_an_unprivileged_auditor(linux_root: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys
    import tempfile

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root (to drop to nobody) and setpriv")
    public = Path(tempfile.mkdtemp(prefix="hostward-perm-"))
    try:
        public.chmod(0o755)
        shutil.copytree(linux_root, public / "root")
        for d in [public / "root", *(p for p in (public / "root").rglob("*") if p.is_dir())]:
            d.chmod(0o755)
        (public / "root/etc/passwd").chmod(0o644)
        (public / "root/etc/shadow").chmod(0o600)  # as on a real system: root only
        repo = Path(__file__).resolve().parents[2]
        out = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                sys.executable,
                "-c",
                UNPRIVILEGED_CHILD,
                str(public / "root"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=repo,
            env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
        )
        assert out.returncode == 0, out.stderr
        results = json.loads(out.stdout)
        assert [status for status, _ in results] == ["error", "error"]
        assert "/etc/shadow: permission denied" in results[0][1]
    finally:
        shutil.rmtree(public)


def test_missing_shadow_is_an_error_never_a_pass(linux_root: Path, check: AuditFn) -> None:
    os.remove(linux_root / "etc/shadow")
    result = check(linux_root, "pwd.login_password_set")
    assert result.status == "error"


def test_every_login_account_with_password_passes(linux_root: Path, check: AuditFn) -> None:
    assert check(linux_root, "pwd.login_password_set").status == "pass"


def test_empty_password_fails(linux_root: Path, check: AuditFn) -> None:
    write(
        linux_root,
        "/etc/shadow",
        (linux_root / "etc/shadow").read_text().replace("alice:$6$salt$hash", "alice:"),
    )
    result = check(linux_root, "pwd.login_password_set")
    assert result.status == "fail"
    assert result.evidence["empty_password"] == ["alice"]


def test_leaver_account_locked_passes(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/etc/shadow", (linux_root / "etc/shadow").read_text().replace("bob:$6$", "bob:!$6$"))
    leavers = (Leaver("Bob Li", "bob", date(2026, 10, 1)), Leaver("Gone", "carol", date(2026, 1, 1)))
    result = check(linux_root, "acc.leavers_disabled", leavers=leavers)
    assert result.status == "pass"
    assert result.evidence["removed"] == ["carol"]


def test_leaver_account_still_enabled_fails(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "acc.leavers_disabled", leavers=(Leaver("Bob Li", "bob", date(2026, 10, 1)),))
    assert result.status == "fail"
    assert result.evidence["still_enabled"][0]["account"] == "bob"


def test_unreadable_leavers_list_is_an_error(linux_root: Path, check: AuditFn) -> None:
    assert (
        check(linux_root, "acc.leavers_disabled", leavers=(), leavers_error="x.csv: missing").status
        == "error"
    )


def test_own_uids_pass(linux_root: Path, check: AuditFn) -> None:
    assert check(linux_root, "acc.no_shared_accounts").status == "pass"


def test_second_uid_zero_and_shared_uid_fail(linux_root: Path, check: AuditFn) -> None:
    passwd = (
        linux_root / "etc/passwd"
    ).read_text() + "toor:x:0:0::/root:/bin/bash\nbob2:x:1001:1001::/h:/bin/bash\n"
    write(linux_root, "/etc/passwd", passwd)
    result = check(linux_root, "acc.no_shared_accounts")
    assert result.status == "fail"
    assert result.evidence["extra_uid0"] == ["toor"]
    assert result.evidence["duplicate_uids"] == {"1001": ["bob", "bob2"]}


def test_desktop_lock_after_five_minutes_passes(linux_root: Path, check: AuditFn) -> None:
    assert check(linux_root, "lock.screen_lock").status == "pass"


def test_desktop_lock_after_an_hour_fails(linux_root: Path, check: AuditFn) -> None:
    write(
        linux_root,
        "/etc/dconf/db/local.d/00-screensaver",
        "[org/gnome/desktop/session]\nidle-delay=uint32 3600\n"
        "[org/gnome/desktop/screensaver]\nlock-enabled=true\n",
    )
    assert check(linux_root, "lock.screen_lock").status == "fail"


def test_shell_tmout_counts_as_session_lock(linux_root: Path, check: AuditFn) -> None:
    os.remove(linux_root / "etc/dconf/db/local.d/00-screensaver")
    assert check(linux_root, "lock.screen_lock").status == "fail"
    write(linux_root, "/etc/profile.d/tmout.sh", "readonly TMOUT=600\nexport TMOUT\n")
    assert check(linux_root, "lock.screen_lock").status == "pass"


def test_no_forbidden_software_passes(linux_root: Path, check: AuditFn) -> None:
    assert check(linux_root, "sw.no_forbidden_software").status == "pass"
    assert check(linux_root, "sw.no_network_scanners").status == "pass"  # nmap only has config files left


def test_game_and_remote_control_installed_fail(linux_root: Path, check: AuditFn) -> None:
    status = (linux_root / "var/lib/dpkg/status").read_text()
    status += "\nPackage: aisleriot\nStatus: install ok installed\nVersion: 3\n"
    status += "\nPackage: anydesk\nStatus: install ok installed\nVersion: 6\n"
    write(linux_root, "/var/lib/dpkg/status", status)
    result = check(linux_root, "sw.no_forbidden_software")
    assert result.status == "fail"
    assert sorted(result.evidence["installed"]) == ["aisleriot", "anydesk"]


def test_running_sunlogin_process_fails(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/proc/777/comm", "sunloginclient\n")
    assert check(linux_root, "sw.no_forbidden_software").status == "fail"


def test_installed_wireshark_fails_scanner_check(linux_root: Path, check: AuditFn) -> None:
    status = (linux_root / "var/lib/dpkg/status").read_text()
    write(
        linux_root,
        "/var/lib/dpkg/status",
        status + "\nPackage: wireshark-qt\nStatus: install ok installed\nVersion: 4\n",
    )
    result = check(linux_root, "sw.no_network_scanners")
    assert result.status == "fail"
    assert result.evidence["installed"]["wireshark-qt"]["matched"] == "wireshark*"


def test_only_ssh_listening_passes_on_insurance_terminal(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "sw.role_allow_list", role="insurance_terminal")
    assert result.status == "pass", result.reason


def test_extra_listening_service_fails_on_insurance_terminal(linux_root: Path, check: AuditFn) -> None:
    tcp = (linux_root / "proc/net/tcp").read_text()
    tcp += "   2: 00000000:0D3D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3\n"
    write(linux_root, "/proc/net/tcp", tcp)
    result = check(linux_root, "sw.role_allow_list", role="insurance_terminal")
    assert result.status == "fail"
    assert result.evidence["not_allowed"] == ["0.0.0.0:3389"]


def test_offline_root_makes_live_checks_not_applicable(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "net.insurance_isolated", role="insurance_terminal", live=False)
    assert result.status == "not_applicable"
    assert "offline" in result.reason


def test_office_pc_on_during_working_hours_passes(linux_root: Path, check: AuditFn) -> None:
    from datetime import datetime

    write(linux_root, "/proc/stat", "cpu  1 2 3\nbtime 1795000000\n")
    monday_morning = datetime(2026, 11, 23, 10, 0).astimezone()
    result = check(linux_root, "lock.off_after_hours", now=monday_morning)
    assert result.status == "pass"
    assert result.evidence["boot_time"] == "2026-11-18T11:06:40+00:00"


def test_office_pc_on_at_night_or_on_saturday_fails(linux_root: Path, check: AuditFn) -> None:
    from datetime import datetime

    night = check(linux_root, "lock.off_after_hours", now=datetime(2026, 11, 23, 22, 10).astimezone())
    assert night.status == "fail"
    assert night.reason == "powered on at Mon 22:10, outside working hours 07:30-18:30"
    saturday = check(linux_root, "lock.off_after_hours", now=datetime(2026, 11, 28, 10, 0).astimezone())
    assert saturday.status == "fail"
    assert (
        check(
            linux_root, "lock.off_after_hours", role="server", now=datetime(2026, 11, 28, 3, 0).astimezone()
        ).status
        == "not_applicable"
    )


def test_one_package_upgraded_yesterday_is_not_a_monthly_patch(linux_root: Path, check: AuditFn) -> None:
    old, recent = NOW - timedelta(days=62), NOW - timedelta(days=1)
    write(
        linux_root,
        "/var/log/apt/history.log",
        f"Start-Date: {local(old, '%Y-%m-%d  %H:%M:%S')}\nCommandline: apt-get -y dist-upgrade\n"
        f"Upgrade: a:amd64 (1, 2)\nEnd-Date: {local(old, '%Y-%m-%d  %H:%M:%S')}\n\n"
        f"Start-Date: {local(recent, '%Y-%m-%d  %H:%M:%S')}\n"
        "Commandline: apt-get install --only-upgrade curl\n"
        "Upgrade: curl:amd64 (7.88.1-10, 7.88.1-10+deb12u8)\n"
        f"End-Date: {local(recent, '%Y-%m-%d  %H:%M:%S')}\n",
    )
    write(linux_root, "/var/log/dpkg.log", f"{local(recent, '%Y-%m-%d %H:%M:%S')} upgrade curl:amd64 1 2\n")
    result = check(linux_root, "patch.os_updated")
    assert result.status == "fail" and "last full OS upgrade 62 days ago (limit 31)" in result.reason


@pytest.mark.parametrize(
    ("commandline", "full"),
    [
        ("apt-get upgrade -y", True),
        ("apt-get -o Dpkg::Options::=--force-confold dist-upgrade", True),
        ("apt full-upgrade", True),
        ("/usr/bin/unattended-upgrade", True),
        ("dnf upgrade --security", True),
        ("apt-get install --only-upgrade openssl", False),
        ("apt-get install vim", False),
        ("dnf upgrade kernel", False),
        ("", False),
    ],
)
def test_only_a_whole_system_command_is_a_full_upgrade(commandline: str, full: bool) -> None:
    from collectors.system.linux.packages import is_full_upgrade

    assert is_full_upgrade(commandline) is full
