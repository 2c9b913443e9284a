"""The engine: overrides, waivers, errors, the audit deadline and exit codes."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from policies_kit import NOW, TODAY, AuditFn, RecordedRunner, ip_outputs, write

from collectors.system.runner import SubprocessRunner
from policies.config import ParameterOverride, Waiver
from policies.context import Target
from policies.engine import run_audit
from policies.library import Library
from policies.result import CheckResult, exit_code
from policies.schema import Parameters

LINKS = [
    {
        "ifname": "lo",
        "flags": ["LOOPBACK", "UP"],
        "operstate": "UNKNOWN",
        "link_type": "loopback",
        "address": "00:00:00:00:00:00",
    },
    {
        "ifname": "eth0",
        "flags": ["BROADCAST", "UP", "LOWER_UP"],
        "operstate": "UP",
        "link_type": "ether",
        "address": "52:54:00:12:34:56",
    },
]
ADDRS = [
    {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]},
    {"ifname": "eth0", "addr_info": [{"family": "inet", "local": "10.88.3.21", "prefixlen": 24}]},
]
ROUTES = [{"dst": "default", "gateway": "10.88.3.1", "dev": "eth0"}, {"dst": "10.88.3.0/24", "dev": "eth0"}]


def _device_tree(root: Path) -> None:
    # ip -j says eth0; sysfs says it is a real device (not virtual) so NET-5 registers it.
    write(root, "/sys/class/net/eth0/device/vendor", "0x8086\n")
    write(root, "/etc/resolv.conf", "nameserver 10.88.0.53\n")


def test_network_baseline_first_seen_is_not_applicable_then_matches(linux_root: Path, check: AuditFn) -> None:
    _device_tree(linux_root)
    runner = RecordedRunner(ip_outputs(LINKS, ADDRS, ROUTES))
    first = check(linux_root, "net.settings_unchanged", runner=runner)
    assert first.status == "not_applicable"
    observed = first.evidence["observed"]
    assert observed == {
        "interfaces": {"eth0": {"mac": "52:54:00:12:34:56", "addresses": ["10.88.3.21/24"]}},
        "gateways": ["10.88.3.1"],
        "dns": ["10.88.0.53"],
    }
    assert check(linux_root, "net.settings_unchanged", runner=runner, baseline=observed).status == "pass"


def test_changed_ip_address_fails_with_before_and_after(linux_root: Path, check: AuditFn) -> None:
    _device_tree(linux_root)
    baseline = {
        "interfaces": {"eth0": {"mac": "52:54:00:12:34:56", "addresses": ["10.88.3.20/24"]}},
        "gateways": ["10.88.3.1"],
        "dns": ["10.88.0.53"],
    }
    result = check(
        linux_root,
        "net.settings_unchanged",
        runner=RecordedRunner(ip_outputs(LINKS, ADDRS, ROUTES)),
        baseline=baseline,
    )
    assert result.status == "fail"
    (drift,) = result.evidence["drift"]
    assert drift["before"]["addresses"] == ["10.88.3.20/24"]
    assert drift["after"]["addresses"] == ["10.88.3.21/24"]


def test_default_route_fails_isolation_on_recorded_ip_output(linux_root: Path, check: AuditFn) -> None:
    result = check(
        linux_root,
        "net.insurance_isolated",
        role="insurance_terminal",
        runner=RecordedRunner(ip_outputs(LINKS, ADDRS, ROUTES)),
    )
    assert result.status == "fail"
    assert "route to default via 10.88.3.1" in result.reason
    no_default = [r for r in ROUTES if r["dst"] != "default"]
    passed = check(
        linux_root,
        "net.insurance_isolated",
        role="insurance_terminal",
        runner=RecordedRunner(ip_outputs(LINKS, ADDRS, no_default)),
    )
    assert passed.status == "pass", passed.reason


def test_missing_ip_tool_is_an_error(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "net.insurance_isolated", role="insurance_terminal", runner=RecordedRunner({}))
    assert result.status == "error"
    assert "could not determine" in result.reason


def test_role_override_then_host_override_change_parameters(library: Library) -> None:
    spec = library.check("av.signatures_current")
    from policies.engine import parameters_for

    overrides = [
        ParameterOverride(check=spec.id, role="server", parameters=Parameters(max_age_days=7)),
        ParameterOverride(check=spec.id, host="pc-01", parameters=Parameters(max_age_days=1)),
    ]
    server = Target("srv-9", "server", "linux")
    assert parameters_for(spec, server, overrides).max_age_days == 7
    assert parameters_for(spec, Target("pc-01", "server", "linux"), overrides).max_age_days == 1
    assert parameters_for(spec, Target("pc-02", "office_pc", "linux"), overrides).max_age_days == 3
    assert parameters_for(spec, server, overrides).database_dir == "/var/lib/clamav"


def test_current_waiver_marks_failure_waived_and_expired_one_does_not(
    linux_root: Path, check: AuditFn
) -> None:
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    current = Waiver(
        "pwd.max_age", "IT head 王主任", "legacy HIS account", (NOW + timedelta(days=5)).date().isoformat()
    )
    result = check(linux_root, "pwd.max_age", waivers=[current])
    assert result.status == "fail" and result.waived
    assert result.waiver is not None and result.waiver.approver == "IT head 王主任"
    assert exit_code([result]) == 0
    expired = Waiver("pwd.max_age", "IT head", "old", (NOW - timedelta(days=1)).date().isoformat())
    result = check(linux_root, "pwd.max_age", waivers=[expired])
    assert result.status == "fail" and not result.waived
    assert result.evidence["expired_waiver"]["approver"] == "IT head"
    assert exit_code([result]) == 1


def test_waiver_for_another_host_does_not_apply(linux_root: Path, check: AuditFn) -> None:
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS 99999\n")
    other = Waiver("pwd.max_age", "IT", "x", "2099-01-01", hosts=("pc-77",))
    assert not check(linux_root, "pwd.max_age", waivers=[other]).waived


def test_exit_codes_follow_the_contract() -> None:
    def r(status: str) -> CheckResult:
        return CheckResult("a.b", status, ("PWD-1",), "low", {}, "")  # type: ignore[arg-type]

    assert exit_code([r("pass"), r("not_applicable")]) == 0
    assert exit_code([r("pass"), r("error")]) == 2
    assert exit_code([r("fail"), r("error")]) == 1


def test_slow_probe_becomes_an_error_at_the_deadline(linux_root: Path, library: Library) -> None:
    class SlowRunner:
        def run(self, argv: object, *, timeout: float, **_: object) -> object:
            time.sleep(3)
            raise AssertionError("unreachable")

    started = time.monotonic()
    report = run_audit(
        library,
        Target("pc", "insurance_terminal", "linux", str(linux_root)),
        SlowRunner(),  # type: ignore[arg-type]
        only=["net.insurance_isolated", "pwd.max_age"],
        now=NOW,
        timeout=0.5,
    )
    assert time.monotonic() - started < 1.5
    by_id = {r.check: r for r in report.results}
    assert by_id["net.insurance_isolated"].status == "error"
    assert "did not finish within 0.5s" in by_id["net.insurance_isolated"].reason
    assert by_id["pwd.max_age"].status == "pass"


def test_full_audit_of_a_fixture_root_is_fast(linux_root: Path, library: Library) -> None:
    started = time.monotonic()
    report = run_audit(
        library, Target("pc", "office_pc", "linux", str(linux_root), live=False), SubprocessRunner(), now=NOW
    )
    assert time.monotonic() - started < 1.0
    statuses = {r.check: r.status for r in report.results}
    assert statuses["pwd.max_age"] == "pass" and statuses["usb.storage_blocked"] == "pass"
    assert statuses["net.settings_unchanged"] == "not_applicable"
    assert TODAY > 0
