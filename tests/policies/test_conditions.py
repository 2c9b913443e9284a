"""The `conditions` probe: officers' checks in YAML, validated with FILE:LINE, and never a pass
on a reading of nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policies_kit import FIXTURES, NOW, RecordedRunner, write

from collectors.system.evidence import NoEvidence
from collectors.system.runner import CommandResult, SubprocessRunner
from collectors.system.windows import secedit
from collectors.system.windows.powershell import POWERSHELL
from collectors.system.windows.readers import SCRIPTS
from policies.context import AuditInputs, Target
from policies.engine import run_audit
from policies.library import load_library
from policies.result import CheckResult

HEAD = """\
version: 1
checks:
  - id: site.c
    title: {zh: 条件, en: Condition}
    rationale: local rule
    rules: [NET-1]
    severity: low
    platforms: [PLATFORM]
    remediation: {zh: 修, en: fix}
    probe:
      name: conditions
"""


def policy(body: str, platform: str = "linux") -> str:
    return HEAD.replace("PLATFORM", platform) + "".join(f"      {line}\n" for line in body.splitlines())


def problems(tmp_path: Path, text: str) -> list[str]:
    write(tmp_path, "/p/site.yaml", text).chmod(0o644)  # whatever the umask
    _, found = load_library([str(tmp_path / "p")])
    return [str(p) for p in found]


def audit(
    tmp_path: Path, root: Path, body: str, *, platform: str = "linux", live: bool = True, runner: Any = None
) -> CheckResult:
    write(tmp_path, "/p/site.yaml", policy(body, platform)).chmod(0o644)  # whatever the umask
    library, found = load_library([str(tmp_path / "p")])
    assert found == []
    target = Target("pc-01", "office_pc", platform, str(root), live)  # type: ignore[arg-type]
    report = run_audit(library, target, runner or SubprocessRunner(), AuditInputs(), only=["site.c"], now=NOW)
    (result,) = report.results
    return result


def test_two_kinds_in_one_condition_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    body = "all:\n  - file: {path: /etc/passwd}\n    process: {name: sshd}\n"
    (found,) = problems(tmp_path, policy(body))
    assert found.startswith(f"{tmp_path / 'p' / 'site.yaml'}:13: checks[0].probe.all[0]: name exactly one of")


def test_a_bad_regex_and_a_relative_path_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    body = "all:\n  - file: {path: etc/passwd, matches: '(unclosed'}\n"
    found = problems(tmp_path, policy(body))
    assert any(":13: checks[0].probe.all[0].file.path: must be an absolute path" in p for p in found)
    assert any(":13: checks[0].probe.all[0].file.matches: not a valid regular expression" in p for p in found)


def test_a_registry_condition_on_a_linux_check_is_rejected(tmp_path: Path) -> None:
    body = "all:\n  - registry: {key: 'HKLM\\SOFTWARE\\X', name: Y, equals: '1'}\n"
    (found,) = problems(tmp_path, policy(body))
    assert "checks[0].platforms: registry exist on Windows only" in found


def test_the_conditions_probe_without_conditions_and_conditions_on_another_probe_are_rejected(
    tmp_path: Path,
) -> None:
    assert any(
        "needs all, any and/or none" in p for p in problems(tmp_path, HEAD.replace("PLATFORM", "linux"))
    )
    other = HEAD.replace("PLATFORM", "linux").replace("name: conditions", "name: screen_lock")
    other += "      all:\n        - process: {name: sshd}\n"
    assert any("only the conditions probe takes conditions" in p for p in problems(tmp_path, other))


def test_file_mode_owner_and_absence_are_judged(tmp_path: Path, linux_root: Path) -> None:
    path = write(linux_root, "/etc/site.conf", "secret=1\n")
    os.chmod(path, 0o646)  # noqa: S103 - the permissive mode under test
    body = (
        "all:\n  - file: {path: /etc/site.conf, mode_max: '0640'}\n"
        "  - file: {path: /etc/nologin, exists: false}\n"
    )
    result = audit(tmp_path, linux_root, body)
    assert result.status == "fail" and "/etc/site.conf has mode 0646, beyond 0640" in result.reason
    os.chmod(path, 0o600)
    assert audit(tmp_path, linux_root, body).status == "pass"
    write(linux_root, "/etc/nologin", "")
    assert audit(tmp_path, linux_root, body).reason == "/etc/nologin exists"


def test_a_file_that_cannot_be_read_makes_even_an_any_an_error(tmp_path: Path, linux_root: Path) -> None:
    os.mkfifo(linux_root / "etc" / "pipe.conf")
    body = "any:\n  - file: {path: /etc/passwd}\n  - file: {path: /etc/pipe.conf, matches: x}\n"
    result = audit(tmp_path, linux_root, body)
    assert result.status == "error" and "pipe.conf" in result.reason


def test_an_owner_unknown_to_the_root_is_an_error_not_a_verdict(tmp_path: Path, linux_root: Path) -> None:
    result = audit(tmp_path, linux_root, "all:\n  - file: {path: /etc/passwd, owner: nosuchuser}\n")
    assert result.status == "error" and "nosuchuser" in result.reason


def test_a_real_command_is_judged_by_exit_code_and_output(tmp_path: Path, linux_root: Path) -> None:
    ok = audit(
        tmp_path, linux_root, "all:\n  - command: {argv: [printf, 'policy drop'], output_matches: drop}\n"
    )
    assert ok.status == "pass" and ok.evidence["conditions"][0]["of"][0]["matched"] == "drop"
    bad = audit(tmp_path, linux_root, "all:\n  - command: {argv: ['false']}\n")
    assert bad.status == "fail" and "false exited 1, not 0" in bad.reason


def test_a_command_that_cannot_run_or_hangs_is_an_error(tmp_path: Path, linux_root: Path) -> None:
    missing = audit(tmp_path, linux_root, "none:\n  - command: {argv: [/nonexistent/tool]}\n")
    assert missing.status == "error"
    hung = audit(tmp_path, linux_root, "none:\n  - command: {argv: [sleep, '5'], timeout: 1}\n")
    assert hung.status == "error" and "no answer within 1 s" in hung.reason


def test_a_command_on_an_offline_root_does_not_apply(tmp_path: Path, linux_root: Path) -> None:
    result = audit(tmp_path, linux_root, "all:\n  - command: {argv: ['true']}\n", live=False)
    assert result.status == "not_applicable"


def test_no_package_database_at_all_is_an_error(tmp_path: Path, linux_root: Path) -> None:
    (linux_root / "var/lib/dpkg/status").unlink()
    result = audit(tmp_path, linux_root, "none:\n  - package: {name: telnetd}\n")
    assert result.status == "error" and "no dpkg or rpm database" in result.reason


def test_a_program_installed_for_one_user_counts_on_windows(tmp_path: Path, linux_root: Path) -> None:
    machine = (FIXTURES / "windows" / "programs").glob("*.json")
    outputs = {
        (*POWERSHELL, SCRIPTS["programs"]): next(iter(sorted(machine))).read_bytes(),
        (*POWERSHELL, SCRIPTS["user_programs"]): b'[{"DisplayName": "ToDesk", "DisplayVersion": "4.7"}]',
    }
    body = "none:\n  - package: {name: 'todesk*'}\n"
    result = audit(tmp_path, linux_root, body, platform="windows", runner=RecordedRunner(outputs))
    assert result.status == "fail" and "ToDesk" in result.reason


def test_a_registry_that_cannot_be_opened_is_an_error(tmp_path: Path, linux_root: Path) -> None:
    body = "all:\n  - registry: {key: 'HKLM\\SOFTWARE\\X', name: Y, exists: false}\n"
    result = audit(tmp_path, linux_root, body, platform="windows")  # no winreg off Windows
    assert result.status == "error" and "registry" in result.reason


def test_a_secedit_export_is_read_as_utf16_with_case_insensitive_names() -> None:
    data = (FIXTURES / "windows" / "secedit" / "guest_off.inf").read_bytes()
    assert data.startswith(b"\xff\xfe")
    policy = secedit.parse_inf(secedit.decode_inf(data))
    assert secedit.lookup(policy, "system access", "enableguestaccount") == "0"
    assert secedit.lookup(policy, "System Access", "NewGuestName") == "Guest"
    assert secedit.lookup(policy, "Event Audit", "AuditLogonEvents") == "3"


def test_a_secedit_that_writes_nothing_is_an_error() -> None:
    def run(argv: Any, **_: Any) -> CommandResult:
        return CommandResult(tuple(argv), 0, b"", b"", 0.1)

    runner = RecordedRunner({})
    runner.run = run  # type: ignore[method-assign]
    with pytest.raises(NoEvidence, match="wrote no export"):
        secedit.read_security_policy(runner)


def test_sysctl_running_and_configured_values_are_both_judged(tmp_path: Path, linux_root: Path) -> None:
    (linux_root / "etc/sysctl.d/60-hostward-noforward.conf").unlink()  # the compliant tree's own
    write(linux_root, "/proc/sys/net/ipv4/ip_forward", "1\n")
    write(linux_root, "/usr/lib/sysctl.d/50-default.conf", "net.ipv4.ip_forward = 1\n")
    write(linux_root, "/etc/sysctl.d/50-default.conf", "net.ipv4.ip_forward = 0\n")  # shadows /usr/lib's
    body = "all:\n  - sysctl: {key: net.ipv4.ip_forward, value: '0'}\n"
    result = audit(tmp_path, linux_root, body)
    assert result.status == "fail" and result.reason == "net.ipv4.ip_forward is 1 now, not 0"
    (leaf,) = result.evidence["conditions"][0]["of"]
    assert leaf["configured"] == {"value": "0", "file": "/etc/sysctl.d/50-default.conf"}
    write(linux_root, "/etc/sysctl.conf", "net.ipv4.ip_forward=1\n")  # applied last
    assert "= 1 in /etc/sysctl.conf, not 0" in audit(tmp_path, linux_root, body).reason
    assert (
        audit(tmp_path, linux_root, body, live=False).evidence["conditions"][0]["of"][0].get("running")
        is None
    )


def test_a_module_loaded_now_fails_and_offline_does_not_apply(tmp_path: Path, linux_root: Path) -> None:
    body = "all:\n  - kernel_module: {name: usb-storage, loaded: false}\n"
    assert audit(tmp_path, linux_root, body).status == "pass"
    write(linux_root, "/proc/modules", "usb_storage 81920 0 - Live 0x0\n")
    assert audit(tmp_path, linux_root, body).reason == "usb_storage is loaded now"
    assert audit(tmp_path, linux_root, body, live=False).status == "not_applicable"


def test_a_port_on_loopback_only_can_be_left_out(tmp_path: Path, linux_root: Path) -> None:
    body = "none:\n  - port: {port: 631, loopback: false}\n"  # 631 listens on 127.0.0.1 in the root
    assert audit(tmp_path, linux_root, body).status == "pass"
    assert audit(tmp_path, linux_root, body.replace("loopback: false", "loopback: true")).status == "fail"


def test_windows_services_are_judged_by_state_and_start_mode(tmp_path: Path, linux_root: Path) -> None:
    stopped = (FIXTURES / "windows" / "services" / "huorong_stopped.json").read_bytes()
    runner = RecordedRunner({(*POWERSHELL, SCRIPTS["services"]): stopped})
    body = "all:\n  - service: {name: hipsdaemon, active: true, enabled: true}\n"
    result = audit(tmp_path, linux_root, body, platform="windows", runner=runner)
    assert result.status == "fail"
    assert result.reason == "hipsdaemon is not running; hipsdaemon does not start at boot"
    running = (FIXTURES / "windows" / "services" / "huorong_running.json").read_bytes()
    runner = RecordedRunner({(*POWERSHELL, SCRIPTS["services"]): running})
    assert audit(tmp_path, linux_root, body, platform="windows", runner=runner).status == "pass"


def test_rpm_answers_where_there_is_no_dpkg(tmp_path: Path, linux_root: Path) -> None:
    (linux_root / "var/lib/dpkg/status").unlink()
    (linux_root / "var/lib/rpm").mkdir(parents=True)
    argv = ("rpm", "--root", str(linux_root), "-q", "--qf", "%{NAME}\\n", "telnet-server")
    absent = CommandResult(argv, 1, b"package telnet-server is not installed\n", b"", 0.1)
    body = "none:\n  - package: {name: telnet-server}\n"
    assert audit(tmp_path, linux_root, body, runner=RecordedRunner({argv: absent})).status == "pass"
    present = CommandResult(argv, 0, b"telnet-server\n", b"", 0.1)
    result = audit(tmp_path, linux_root, body, runner=RecordedRunner({argv: present}))
    assert result.status == "fail" and result.reason == "installed: telnet-server"
    broken = CommandResult(argv, 1, b"", b"error: rpmdb: BDB0113 Thread/process failed\n", 0.1)
    assert audit(tmp_path, linux_root, body, runner=RecordedRunner({argv: broken})).status == "error"


def test_a_policy_file_with_commands_that_others_can_write_is_refused(tmp_path: Path) -> None:
    text = policy("all:\n  - command: {argv: ['true']}\n")
    path = write(tmp_path, "/p/site.yaml", text)
    path.chmod(0o644)
    assert problems(tmp_path, text) == []
    path.chmod(0o664)
    path.write_text(text, encoding="utf-8")
    _, found = load_library([str(tmp_path / "p")])
    assert [str(p) for p in found] == [
        f"{path}:0: holds command conditions but is writable by others (mode 0664, UID {os.geteuid()}): "
        "the agent would run what they write; chmod 644 and chown root"
    ]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_as_a_secedit_export_parse_or_are_refused_without_a_crash(data: bytes) -> None:
    policy = secedit.parse_inf(secedit.decode_inf(data))
    assert all(isinstance(v, dict) for v in policy.values())


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_as_sysctl_configuration_parses_to_normalised_keys(text: str) -> None:
    from collectors.system.linux import sysctl

    found: dict[str, sysctl.Configured] = {}
    sysctl.parse_sysctl_conf(text, "/etc/sysctl.d/x.conf", found)
    assert all(
        "/" not in key and value.value == " ".join(value.value.split()) for key, value in found.items()
    )


def test_a_nested_combination_explains_itself_by_the_conditions_that_decided_it(
    tmp_path: Path, linux_root: Path
) -> None:
    body = (
        "none:\n"
        "  - all:\n"
        "      - file: {path: /etc/passwd, matches: '^alice:'}\n"
        "      - any:\n"
        "          - file: {path: /etc/nologin}\n"
        "          - file: {path: /etc/group, matches: '^bob:'}\n"
    )
    result = audit(tmp_path, linux_root, body)
    assert result.status == "fail"
    assert result.reason == "/etc/passwd contains 'alice:'; /etc/group contains 'bob:'"
    assert result.reason_zh == "/etc/passwd 含有 'alice:'；/etc/group 含有 'bob:'"
    (top,) = result.evidence["conditions"]
    assert [c["kind"] for c in top["of"][0]["of"]] == ["file", "any"]
