"""Every remediation, followed literally, makes its check pass.

For each check whose remediation is machine-applicable (lines in files, registry values, local
security policy values, config values) the test reads what to do FROM THE REMEDIATION TEXT (the
quoted lines, `NAME = VALUE (DWORD) under KEY`, `(Key = value)`), checks that the English and
Chinese texts say the same, applies it to a failing --root tree / recorded registry / recorded
secedit export, and asserts the check passes. The other checks are in SKIPPED, with the reason
why their remediation cannot be applied in a test; no check is in neither."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conditions_kit import SeceditRunner
from memory_registry import MemoryRegistry
from policies_kit import FIXTURES, NOW, AuditFn, RecordedRunner, write

from collectors.system.windows.registry import dword
from policies.context import AuditInputs, Target
from policies.engine import run_audit
from policies.library import Library, load_library
from policies.result import CheckResult
from policies.schema import CheckSpec

SKIPPED: dict[str, str] = {
    "pwd.max_age": "chage -M 90 is a command run per account; enforcement password_max_age applies it",
    "pwd.login_password_set": "setting a password (passwd NAME) is a person's act, not text",
    "acc.leavers_disabled": "usermod -L per leaver; enforcement lock_leavers applies it (test_enforce)",
    "acc.no_shared_accounts": "which account to remove or renumber is a judgement",
    "lock.screen_lock": "the dconf keys are named, not given as lines; lock.gnome_lock_enforced gives them",
    "lock.off_after_hours": "shutting down at night is a habit, not a setting",
    "sys.firewall_on": "enabling a systemd unit needs the running system (systemctl)",
    "win.firewall_on": "netsh is a command; the registry values it sets are not in the text",
    "sys.time_sync": "installing and enabling chrony needs the running system",
    "sys.audit_logging": "installing and enabling auditd needs the running system",
    "av.auto_update_linux": "systemctl enable --now needs the running system",
    "usb.media_scanned": "clamonacc must run; a running process cannot be written to disk",
    "av.installed_running": "installing antivirus is a package install and a running service",
    "av.signatures_current": "freshclam fetches signatures over the network",
    "av.scan_recent": "a scan has to run",
    "patch.os_updated": "apt-get upgrade is a command over the network",
    "patch.security_updates": "installing updates is a command over the network",
    "net.insurance_isolated": "unplugging adapters and removing routes acts on the live network",
    "net.intranet_no_outside_line": "unplugging adapters acts on the hardware",
    "net.server_no_egress": "a firewall rule on the network, not on this host",
    "net.store_isolated": "unplugging adapters acts on the hardware",
    "net.settings_unchanged": "restoring or re-registering a baseline is an approval",
    "net.no_unknown_devices": "tracing a device on the LAN is a person's act",
    "net.internet_by_class": "the web filter is another device",
    "sw.no_forbidden_software": "uninstalling is a package manager's act",
    "sw.role_allow_list": "which service to stop is a judgement",
    "sw.no_network_scanners": "uninstalling is a package manager's act",
    "sw.no_games": "uninstalling is a package manager's act",
    "sw.no_im_on_dedicated": "uninstalling is a package manager's act",
}


@dataclass(frozen=True)
class FileFix:
    """Lines the remediation quotes, added to (or deleted from) the file it names."""

    add: dict[str, tuple[str, ...]] = field(default_factory=dict)
    delete: dict[str, tuple[str, ...]] = field(default_factory=dict)
    prepend: bool = False  # "at the top of" the file
    break_it: Callable[[Path], None] | None = None
    role: str = "office_pc"  # the role the check covers


def _dpkg_add(root: Path, name: str) -> None:
    status = root / "var/lib/dpkg/status"
    status.write_text(status.read_text() + f"\nPackage: {name}\nStatus: install ok installed\nVersion: 1\n")


_MEDIA_MODULES = ("usb-storage", "uas", "sr_mod", "cdrom", "floppy")
FILE_FIXES: dict[str, FileFix] = {
    "usb.media_blocked_clinical": FileFix(
        add={
            "/etc/modprobe.d/hostward-media.conf": tuple(
                line for m in _MEDIA_MODULES for line in (f"install {m} /bin/false", f"blacklist {m}")
            )
        },
        role="clinical_terminal",
        break_it=lambda root: [p.unlink() for p in (root / "etc/modprobe.d").glob("*.conf")],
    ),
    "usb.storage_blocked": FileFix(
        add={
            "/etc/modprobe.d/hostward-usb.conf": (
                "install usb-storage /bin/false",
                "blacklist usb-storage",
                "install uas /bin/false",
                "blacklist uas",
            )
        },
    ),
    "pwd.complexity_linux": FileFix(
        add={
            "/etc/security/pwquality.conf": ("minlen = 8", "minclass = 3"),
            "/etc/pam.d/common-password": ("password requisite pam_pwquality.so retry=3",),
        }
    ),
    "pwd.lockout_linux": FileFix(
        add={
            "/etc/security/faillock.conf": ("deny = 5", "unlock_time = 900"),
            "/etc/pam.d/common-auth": ("auth required pam_faillock.so preauth",),
        }
    ),
    "ssh.root_login_off": FileFix(
        add={"/etc/ssh/sshd_config": ("PermitRootLogin no",)},
        delete={"/etc/ssh/sshd_config": ("PermitRootLogin",)},  # "remove every other PermitRootLogin line"
        prepend=True,
        break_it=lambda root: write(root, "/etc/ssh/sshd_config", "UsePAM yes\nPermitRootLogin yes\n"),
    ),
    "ssh.no_empty_passwords": FileFix(
        delete={"/etc/ssh/sshd_config": ("PermitEmptyPasswords yes",)},
        break_it=lambda root: write(root, "/etc/ssh/sshd_config", "PermitEmptyPasswords yes\n"),
    ),
    "acc.guest_off_linux": FileFix(
        delete={"/etc/lightdm/lightdm.conf": ("allow-guest=true",)},
        break_it=lambda root: write(root, "/etc/lightdm/lightdm.conf", "[Seat:*]\nallow-guest=true\n"),
    ),
    "lock.gnome_lock_enforced": FileFix(
        add={
            "/etc/dconf/db/local.d/00-hostward-lock": (
                "[org/gnome/desktop/screensaver]",
                "lock-enabled=true",
            ),
            "/etc/dconf/db/local.d/locks/hostward-lock": ("/org/gnome/desktop/screensaver/lock-enabled",),
        },
        break_it=lambda root: _dpkg_add(root, "gnome-shell"),
    ),
    "net.no_ip_forwarding": FileFix(
        add={"/etc/sysctl.d/60-hostward-noforward.conf": ("net.ipv4.ip_forward = 0",)}
    ),
}
REGISTRY_FIXES = ("win.autorun_off", "win.autorun_inf_off", "win.screensaver_password")
SECEDIT_FIXES = (
    "win.guest_off",
    "win.password_complexity",
    "win.account_lockout",
    "win.password_max_age",
    "win.audit_logon",
)
CONFIG_FIXES = ("bak.retention_meets_rule",)
APPLIED = (*FILE_FIXES, *REGISTRY_FIXES, *SECEDIT_FIXES, *CONFIG_FIXES)


def quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]+)"', text)


def says(spec: CheckSpec, *parts: str) -> None:
    """Both languages of the remediation contain every part."""
    for lang, text in (("en", spec.remediation.en), ("zh", spec.remediation.zh)):
        missing = [p for p in parts if p not in text]
        assert not missing, f"{spec.id} remediation ({lang}) does not say {missing}"


def test_every_check_is_either_applied_or_skipped_with_a_reason() -> None:
    library, _ = load_library()
    ids = {c.id for c in library.checks}
    assert set(APPLIED).isdisjoint(SKIPPED)
    assert ids == set(APPLIED) | set(SKIPPED), ids ^ (set(APPLIED) | set(SKIPPED))
    assert all(len(reason) > 10 for reason in SKIPPED.values())


@pytest.mark.parametrize("check_id", list(FILE_FIXES))
def test_file_remediation_followed_literally_passes(
    check_id: str, library: Library, linux_root: Path, check: AuditFn
) -> None:
    spec, fix = library.check(check_id), FILE_FIXES[check_id]
    for path, lines in fix.add.items():
        says(spec, path.rsplit("/", 1)[0], path.rsplit("/", 1)[1])
        assert set(lines) <= set(quoted(spec.remediation.en)) & set(quoted(spec.remediation.zh)), lines
        (linux_root / path.lstrip("/")).unlink(missing_ok=True)  # the failing system lacks them
    for path, lines in fix.delete.items():
        says(spec, path)
        assert any(line in quoted(spec.remediation.en) for line in lines) or fix.prepend
    if fix.break_it is not None:
        fix.break_it(linux_root)
    before = check(linux_root, check_id, role=fix.role, live=False)
    assert before.status == "fail", before.reason
    for path, prefixes in fix.delete.items():
        full = linux_root / path.lstrip("/")
        if full.exists():
            kept = [ln for ln in full.read_text().splitlines() if not ln.strip().startswith(prefixes)]
            full.write_text("".join(f"{ln}\n" for ln in kept))
    for path, lines in fix.add.items():
        full = linux_root / path.lstrip("/")
        old = full.read_text() if full.exists() else ""
        new = "".join(f"{ln}\n" for ln in lines)
        write(linux_root, path, new + old if fix.prepend else old + new)
    after = check(linux_root, check_id, role=fix.role, live=False)
    assert after.status == "pass", after.reason


def on_windows(library: Library, root: Path, check_id: str, runner: Any, registry: Any = None) -> CheckResult:
    target = Target("pc-01", "office_pc", "windows", str(root), True)
    report = run_audit(library, target, runner, AuditInputs(registry=registry), only=[check_id], now=NOW)
    (result,) = report.results
    return result


REGISTRY_TEXT = re.compile(r"(\w+) = (\d+) \(DWORD\) under (HKLM\\[\w\\]+)")


@pytest.mark.parametrize("check_id", REGISTRY_FIXES)
def test_registry_remediation_followed_literally_passes(
    check_id: str, library: Library, linux_root: Path
) -> None:
    spec = library.check(check_id)
    (name, value, key), *_ = REGISTRY_TEXT.findall(spec.remediation.en)
    says(spec, key, f"{name} = {value}")
    registry = MemoryRegistry()
    assert on_windows(library, linux_root, check_id, RecordedRunner({}), registry).status == "fail"
    registry.set(key, name, dword(int(value)))
    after = on_windows(library, linux_root, check_id, RecordedRunner({}), registry)
    assert after.status == "pass", after.reason


def export_with(tmp_path: Path, name: str, values: dict[str, str]) -> Path:
    """The recorded secedit export with `Key = value` lines replaced."""
    lines = (FIXTURES / "windows" / "secedit" / "guest_off.inf").read_bytes().decode("utf-16").split("\r\n")
    lines = [f"{k} = {values[k]}" if (k := ln.split(" = ")[0]) in values else ln for ln in lines]
    out = tmp_path / name
    out.write_bytes("\r\n".join(lines).encode("utf-16"))
    return out


WEAK = {
    "EnableGuestAccount": "1",
    "PasswordComplexity": "0",
    "MinimumPasswordLength": "0",
    "LockoutBadCount": "0",
    "MaximumPasswordAge": "-1",
    "AuditLogonEvents": "0",
    "AuditAccountLogon": "0",
}


@pytest.mark.parametrize("check_id", SECEDIT_FIXES)
def test_security_policy_remediation_followed_literally_passes(
    check_id: str, library: Library, linux_root: Path, tmp_path: Path
) -> None:
    spec = library.check(check_id)
    told = dict(re.findall(r"(\w+) = (-?\d+)", spec.remediation.en))
    assert told and told == dict(re.findall(r"(\w+) = (-?\d+)", spec.remediation.zh))
    weak = export_with(tmp_path, "weak.inf", WEAK)
    assert on_windows(library, linux_root, check_id, SeceditRunner(weak)).status == "fail"
    fixed = export_with(tmp_path, "fixed.inf", {**WEAK, **told})
    after = on_windows(library, linux_root, check_id, SeceditRunner(fixed))
    assert after.status == "pass", after.reason


def test_retention_remediation_followed_literally_passes(library: Library, linux_root: Path) -> None:
    spec = library.check("bak.retention_meets_rule")
    lines = quoted(spec.remediation.en)
    assert lines == quoted(spec.remediation.zh)
    told = yaml.safe_load("\n".join(lines))
    target = Target("srv", "server", "linux", str(linux_root), True)

    def judge(keep: dict[str, Any]) -> str:
        inputs = AuditInputs(backup_retention=keep)
        only = ["bak.retention_meets_rule"]
        return run_audit(library, target, RecordedRunner({}), inputs, only=only, now=NOW).results[0].status

    weak = {"keep_within": "1y", "keep_yearly": 3}
    assert judge(weak) == "fail"
    assert judge({**weak, **told}) == "pass"
