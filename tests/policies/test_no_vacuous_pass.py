"""Reading nothing is not evidence: a reader that returns nothing, garbage, fails or hangs makes
its check `error` with the reason (en and zh), on Windows and on Linux; so does an inventory
that a real host never has empty (accounts, software, adapters, update search, processes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from policies_kit import AuditFn, RecordedRunner, ip_outputs, write
from test_engine import ADDRS, LINKS, ROUTES
from windows_cases import BREAKAGES, EMPTY_INVENTORIES, FED, Case, run_case, script

from collectors.system.runner import CommandResult
from collectors.system.windows.powershell import as_list
from collectors.system.windows.readers import SCRIPTS
from policies.library import Library

READER_BREAKS = [
    pytest.param(case, reader, how, id=f"{case.name}-{reader}-{how}")
    for case in FED
    for reader in case.readers
    for how in BREAKAGES
]
EMPTY_READINGS = [
    pytest.param(case, reader, id=f"{case.name}-{reader}")
    for case in FED
    for reader in case.readers
    if reader in EMPTY_INVENTORIES
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in FED])
def test_every_powershell_fed_check_passes_on_its_healthy_recordings(library: Library, case: Case) -> None:
    result = run_case(library, case)
    assert result.status == "pass", result.reason


@pytest.mark.parametrize(("case", "reader", "how"), READER_BREAKS)
def test_a_broken_reader_makes_its_check_an_error_never_a_pass(
    library: Library, case: Case, reader: str, how: str
) -> None:
    result = run_case(library, case, **{reader: BREAKAGES[how]})
    assert result.status == "error", (result.status, result.reason)
    if (reader, how) == ("mp_status", "exit_1"):  # Defender absent: the probe names what is missing
        assert "Defender" in result.reason or "antivirus" in result.reason
        return
    assert reader in result.reason and "could not determine" in result.reason
    assert result.reason_zh.startswith("无法判定")


@pytest.mark.parametrize(("case", "reader"), EMPTY_READINGS)
def test_an_inventory_no_real_pc_has_empty_is_an_error(library: Library, case: Case, reader: str) -> None:
    result = run_case(library, case, **{reader: EMPTY_INVENTORIES[reader]})
    assert result.status == "error", (result.status, result.reason)


def test_powershell_printing_nothing_says_it_may_be_blocked_in_both_languages(library: Library) -> None:
    (case,) = [c for c in FED if c.check == "pwd.max_age"]
    result = run_case(library, case, local_users=BREAKAGES["empty"])
    assert "PowerShell returned no data: blocked by policy" in result.reason
    assert "PowerShell 没有返回任何数据：被策略阻止" in result.reason_zh
    hung = run_case(library, case, local_users=BREAKAGES["timeout"])
    assert "no answer within 30 s" in hung.reason and "30 秒内没有应答" in hung.reason_zh


def test_a_stub_powershell_leaves_no_check_passing_on_any_role(library: Library) -> None:
    """Wine's powershell.exe prints nothing: every check that reads PowerShell is an error."""
    from windows_cases import BASELINE, LEAVERS, RECORDED_NOW, REGISTER, ReplayRunner

    from policies.context import AuditInputs, Target
    from policies.engine import run_audit

    stub = {script(name): BREAKAGES["empty"] for name in [*SCRIPTS, "network"]}
    inputs = AuditInputs(leavers=LEAVERS, assets=REGISTER, network_baseline=BASELINE)
    seen: dict[str, str] = {}
    for role in ("office_pc", "manager_pc", "clinical_terminal", "insurance_terminal", "server"):
        target = Target("pc-01", role, "windows", "C:\\")  # type: ignore[arg-type]
        report = run_audit(library, target, ReplayRunner(stub), inputs, now=RECORDED_NOW, timeout=20)
        seen |= {r.check: r.status for r in report.results if r.status != "not_applicable"}
    fed = {c.check for c in FED}
    assert fed <= set(seen)
    assert {check: seen[check] for check in fed} == dict.fromkeys(fed, "error")
    # Only the clock-based check may still judge (it reads no PowerShell at all).
    assert {c for c, s in seen.items() if s == "pass"} <= {"lock.off_after_hours"}


def test_an_array_wrapped_by_windows_powershell_5_is_unwrapped() -> None:
    wrapped = {"value": [{"Name": "Administrator"}, {"Name": "Guest"}], "Count": 2}
    assert [u["Name"] for u in as_list(wrapped)] == ["Administrator", "Guest"]


# --- Linux: the readers that are commands or inventories, not single files -------------------


def test_an_empty_package_database_is_an_error_not_a_clean_inventory(
    linux_root: Path, check: AuditFn
) -> None:
    assert check(linux_root, "sw.no_forbidden_software").status == "pass"
    write(linux_root, "/var/lib/dpkg/status", "")
    for check_id in ("sw.no_forbidden_software", "sw.no_network_scanners", "av.installed_running"):
        result = check(linux_root, check_id)
        assert result.status == "error", (check_id, result.reason)
        assert "no installed package" in result.reason, result.reason


def test_a_proc_without_processes_is_an_error_on_a_live_system(linux_root: Path, check: AuditFn) -> None:
    for pid in ("101", "102", "103", "104"):
        (linux_root / "proc" / pid / "comm").unlink()
    result = check(linux_root, "sw.no_forbidden_software")
    assert result.status == "error" and "no running process could be read" in result.reason


LINUX_IP_BREAKS = {
    "empty": b"",
    "empty_list": b"[]",
    "not_json": b'Object "link" is unknown, try "ip help".\n',
    "exit_1": CommandResult((), 1, b"", b"RTNETLINK answers: Operation not permitted", 0.1),
    "timeout": CommandResult((), -9, b"", b"", 5.0, timed_out=True),
}


def _linux_net(root: Path) -> dict[tuple[str, ...], Any]:
    write(root, "/sys/class/net/eth0/device/vendor", "0x8086\n")
    write(root, "/etc/resolv.conf", "nameserver 10.88.0.53\n")
    return dict(ip_outputs(LINKS, ADDRS, [r for r in ROUTES if r["dst"] != "default"]))


@pytest.mark.parametrize("how", list(LINUX_IP_BREAKS))
def test_a_broken_ip_link_reading_is_an_error_for_isolation(
    linux_root: Path, check: AuditFn, how: str
) -> None:
    outputs = _linux_net(linux_root)
    role = "insurance_terminal"
    assert (
        check(linux_root, "net.insurance_isolated", role=role, runner=RecordedRunner(outputs)).status
        == "pass"
    )
    outputs[("ip", "-j", "link", "show")] = LINUX_IP_BREAKS[how]
    result = check(linux_root, "net.insurance_isolated", role=role, runner=RecordedRunner(outputs))
    assert result.status == "error", result.reason


def test_only_a_loopback_interface_read_is_an_error_not_an_isolated_host(
    linux_root: Path, check: AuditFn
) -> None:
    outputs = _linux_net(linux_root)
    outputs[("ip", "-j", "link", "show")] = json.dumps(LINKS[:1]).encode()
    result = check(
        linux_root, "net.insurance_isolated", role="insurance_terminal", runner=RecordedRunner(outputs)
    )
    assert result.status == "error" and "no network interface besides loopback" in result.reason


def test_an_empty_neighbour_table_is_an_error(check: AuditFn) -> None:
    neigh = ("ip", "-j", "neigh", "show")
    register = {"00:1a:2b:3c:4d:5e": "core switch"}
    result = check("/", "net.no_unknown_devices", runner=RecordedRunner({neigh: b"[]"}), assets=register)
    assert result.status == "error" and "neighbour table is empty" in result.reason


def test_an_empty_stored_baseline_is_an_error_not_a_match(linux_root: Path, check: AuditFn) -> None:
    runner = RecordedRunner(_linux_net(linux_root))
    observed = check(linux_root, "net.settings_unchanged", runner=runner).evidence["observed"]
    assert check(linux_root, "net.settings_unchanged", runner=runner, baseline=observed).status == "pass"
    for empty in ({}, {"interfaces": {}, "gateways": [], "dns": []}):
        result = check(linux_root, "net.settings_unchanged", runner=runner, baseline=empty)
        assert result.status == "error" and "stored baseline is empty" in result.reason


def test_an_empty_observation_never_matches_an_empty_baseline(linux_root: Path, check: AuditFn) -> None:
    outputs = _linux_net(linux_root)
    (linux_root / "sys/class/net/eth0/device/vendor").unlink()  # eth0 now reads as virtual: not registered
    (linux_root / "sys/class/net/eth0/device").rmdir()
    (linux_root / "etc/resolv.conf").unlink()
    empty = {"interfaces": {}, "gateways": [], "dns": []}
    result = check(linux_root, "net.settings_unchanged", runner=RecordedRunner(outputs), baseline=empty)
    assert result.status == "error" and "nothing to compare" in result.reason
    assert "observed" not in result.evidence  # an empty reading must never become the baseline


def test_a_neighbour_table_of_only_broadcast_entries_is_an_error(check: AuditFn) -> None:
    neigh = ("ip", "-j", "neigh", "show")
    only_groups = [
        {"dst": "224.0.0.251", "dev": "eth0", "lladdr": "01:00:5e:00:00:fb", "state": ["NOARP"]},
        {"dst": "10.0.0.255", "dev": "eth0", "lladdr": "ff:ff:ff:ff:ff:ff", "state": ["PERMANENT"]},
    ]
    runner = RecordedRunner({neigh: json.dumps(only_groups).encode()})
    result = check("/", "net.no_unknown_devices", runner=runner, assets={"00:1a:2b:3c:4d:5e": "switch"})
    assert result.status == "error" and "no unicast device" in result.reason


def test_an_access_class_without_destinations_is_an_error_not_a_pass(library: Library) -> None:
    from policies.config import AccessClass, InternetAccessConfig
    from policies.context import AuditInputs, Target
    from policies.engine import run_audit

    access = InternetAccessConfig(classes=(AccessClass(name="C"),), class_by_role={"office_pc": "C"})
    report = run_audit(
        library,
        Target("pc-01", "office_pc", "linux", "/"),
        RecordedRunner({}),
        AuditInputs(internet_access=access),
        only=["net.internet_by_class"],
    )
    (result,) = report.results
    assert result.status == "error" and "names no destination" in result.reason
    with_target = InternetAccessConfig(
        classes=(AccessClass(name="C", denied=("127.0.0.1:9",)),), class_by_role={"office_pc": "C"}
    )
    report = run_audit(
        library,
        Target("pc-01", "office_pc", "linux", "/"),
        RecordedRunner({}),
        AuditInputs(internet_access=with_target),
        only=["net.internet_by_class"],
    )
    assert report.results[0].status in ("pass", "fail")  # judged: a destination was probed


def test_enforcement_changes_nothing_on_a_reading_of_nothing() -> None:
    """USB lockdown and password fixes need the current state: an empty reading stops them."""
    from windows_cases import replay

    from collectors.system.windows.changes import SCRIPTS as CHANGE_SCRIPTS
    from collectors.system.windows.powershell import POWERSHELL
    from policies.context import AuditInputs, Target
    from policies.enforce import enforce
    from policies.library import load_library

    library, _ = load_library()
    host = replay(
        usbstor=BREAKAGES["empty"], removable_policy=BREAKAGES["empty"], local_users=BREAKAGES["empty"]
    )
    calls: list[tuple[str, ...]] = []
    run = host.run

    def watching(argv: Any, **kw: Any) -> CommandResult:
        calls.append(tuple(argv))
        return run(argv, **kw)

    host.run = watching  # type: ignore[method-assign]
    target = Target("pc-01", "office_pc", "windows", "C:\\")
    done = enforce(library, target, host, AuditInputs(), opted_in=["usb.storage_blocked", "pwd.max_age"])
    assert [c.result for c in done] == [False, False]
    assert all(c.comment.startswith("could not read the current state") for c in done)
    by_check = {c.check: c.comment for c in done}
    assert "PowerShell returned no data" in by_check["pwd.max_age"]
    changes = {(*POWERSHELL, s) for s in CHANGE_SCRIPTS.values()}
    assert not changes & set(calls) and not any(a[0] == "net.exe" for a in calls)
