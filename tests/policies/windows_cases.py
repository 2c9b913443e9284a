"""Every PowerShell-fed Windows check, the readers it cannot do without, and ways a reader breaks.

Shared by the Linux tests (tests/policies/test_no_vacuous_pass.py, test_windows_real_outputs.py)
and the replay on Windows CPython under Wine (tests/windows/test_windows_checks_replayed.py runs
this file with the bundle's python.exe), so both judge the same outputs
through the same code path: no pytest here, only the standard library and hostward.
Fixture outputs are replayed by script (argv); where each came from is in SOURCES.md beside it.
The USB storage policy is read from the registry (no PowerShell): its fixtures are registry
values, replayed through memory_registry.py (the Wine replay copies it next to this file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

try:
    from memory_registry import MemoryRegistry
except ModuleNotFoundError:  # run as a script by the embeddable Python: its ._pth leaves out our folder
    import sys

    sys.path.append(str(Path(__file__).resolve().parent))
    from memory_registry import MemoryRegistry

from collectors.system.runner import CommandResult
from collectors.system.windows import network as win_net
from collectors.system.windows.powershell import POWERSHELL
from collectors.system.windows.readers import SCRIPTS
from collectors.system.windows.records import FILE_TIMES
from collectors.system.windows.usb_policy import REMOVABLE, USBSTOR
from common.errors import CommandNotFound
from common.schema import Duration
from policies.config import IsolationConfig, ParameterOverride
from policies.context import AuditInputs, Leaver, Target
from policies.engine import run_audit
from policies.library import Library, load_library
from policies.result import CheckResult
from policies.schema import Parameters

FIXTURES = Path(__file__).parent / "fixtures" / "windows"
# The hand-written outputs are dated around 2026-11-20; the audit runs a day later.
RECORDED_NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
HEALTHY = {
    "mp_status": "healthy",
    "av_products": "defender_on",
    "local_users": "compliant",
    "usbstor": "blocked",
    "removable_policy": "classes",
    "usb_devices": "kingston",
    "hotfixes": "recent",
    "programs": "clean",
    "processes": "clean",
    "screen_lock": "600",
    "listeners": "clean",
    "network": "isolated",
    "services": "none",
    "pending_updates": "none",
    "neighbours": "registered",
    "sessions": "manager",
}
# How a reader breaks on a real PC: PowerShell blocked or a stub (prints nothing), an error text
# where JSON was due, a failing cmdlet, a hang.
BREAKAGES: dict[str, CommandResult] = {
    "empty": CommandResult((), 0, b"", b"", 0.1),
    "not_json": CommandResult(
        (),
        0,
        b"Cannot invoke method. Method invocation is supported only on core types in this language mode.\r\n",
        b"",
        0.1,
    ),
    "exit_1": CommandResult((), 1, b"", b"Get-CimInstance : Access denied \r\n", 0.1),
    "timeout": CommandResult((), -9, b"", b"", 30.0, timed_out=True),
}
# Readings that are valid JSON but empty where a real PC never is.
EMPTY_INVENTORIES: dict[str, bytes] = {
    "local_users": b"[]",
    "programs": b"[]",
    "processes": b"[]",
    "hotfixes": b"[]",
    "listeners": b"[]",
    "neighbours": b"[]",
    "network": b'{"adapters": [], "addresses": [], "routes": [], "dns": []}',
    "pending_updates": b"[]",
}
# Readers of the registry (winreg, not PowerShell): a fixture is a set of values; a reader breaks
# when the key cannot be read (access refused).
REGISTRY_READERS = {"usbstor": USBSTOR, "removable_policy": REMOVABLE}


@dataclass(frozen=True)
class Denied:
    """A registry reader whose key may not be read (ERROR_ACCESS_DENIED)."""


REGISTRY_BREAKAGES: dict[str, Denied] = {"access_denied": Denied()}


def breakages(reader: str) -> Mapping[str, CommandResult | Denied]:
    return REGISTRY_BREAKAGES if reader in REGISTRY_READERS else BREAKAGES


SERVER_NO_SECURITY_CENTER = CommandResult(
    (), 1, b"", b"Get-CimInstance : Invalid namespace \r\nAt line:1 char:1 (0x8004100e)", 0.2
)
REGISTER = {"00:1a:2b:3c:4d:5e": "core switch"}
LEAVERS = (Leaver("王芳", "wangfang", date(2026, 10, 31)),)


def script(name: str) -> tuple[str, ...]:
    extra = {"network": win_net.SCRIPT, "file_times": FILE_TIMES}
    return (*POWERSHELL, extra.get(name) or SCRIPTS[name])


def fixture(name: str, case: str) -> bytes:
    return (FIXTURES / name / f"{case}.json").read_bytes()


Reading = str | bytes | CommandResult | Denied


class ReplayRunner:
    """Replays outputs by argv; an argv nobody recorded raises, as a missing program would.
    `registry`: the PC's registry values (recorded), for the readers that use winreg."""

    def __init__(
        self,
        outputs: Mapping[tuple[str, ...], bytes | CommandResult],
        registry: MemoryRegistry | None = None,
    ) -> None:
        self.outputs = dict(outputs)
        self.registry = registry if registry is not None else MemoryRegistry()

    def run(self, argv: Sequence[str], *, timeout: float, **_: Any) -> CommandResult:
        key = tuple(argv)
        if key not in self.outputs:
            raise CommandNotFound(key[0], f"no recording for {key[-1][:60]!r}")
        out = self.outputs[key]
        return out if isinstance(out, CommandResult) else CommandResult(key, 0, out, b"", 0.01)


def replay(**cases: Reading) -> ReplayRunner:
    """A PC whose readers print the HEALTHY fixtures, except those named (fixture name, raw
    bytes or a whole CommandResult; for a registry reader: fixture name, raw JSON or Denied)."""
    outputs: dict[tuple[str, ...], bytes | CommandResult] = {}
    values: list[bytes] = []
    denied: list[str] = []
    for name, case in {**HEALTHY, **cases}.items():
        raw = fixture(name, case) if isinstance(case, str) else case
        if name in REGISTRY_READERS:
            if isinstance(raw, Denied):
                denied.append(REGISTRY_READERS[name])
            elif isinstance(raw, bytes):
                values.append(raw)
            else:
                raise TypeError(f"{name} is read from the registry, not from a command")
        elif isinstance(raw, Denied):
            raise TypeError(f"{name} is read from a command, not from the registry")
        else:
            outputs[script(name)] = raw
    registry = MemoryRegistry(denied)
    for raw in values:
        registry.load_json(raw)
    return ReplayRunner(outputs, registry)


@dataclass(frozen=True)
class Case:
    """A check that passes on HEALTHY (+ `cases`) and cannot be judged without any of `readers`."""

    check: str
    readers: tuple[str, ...]
    role: str = "office_pc"
    cases: Mapping[str, Reading] = field(default_factory=dict)
    leavers: bool = False
    assets: bool = False
    baseline: bool = False
    params: Parameters | None = None
    label: str = ""  # when one check is listed twice (another path through its probe)

    @property
    def name(self) -> str:
        return self.label or self.check


FED: tuple[Case, ...] = (
    Case("pwd.max_age", ("local_users",)),
    Case("pwd.login_password_set", ("local_users",)),
    Case("acc.leavers_disabled", ("local_users",), leavers=True),
    Case("acc.no_shared_accounts", ("local_users",)),
    Case("lock.screen_lock", ("screen_lock",)),
    Case("usb.storage_blocked", ("usbstor", "removable_policy")),
    Case(
        "usb.media_blocked_clinical",
        ("usbstor", "removable_policy"),
        "clinical_terminal",
        {"removable_policy": "deny_all"},
    ),
    Case("usb.media_scanned", ("usb_devices", "av_products"), "manager_pc"),
    Case("av.installed_running", ("av_products",)),
    Case("av.signatures_current", ("av_products", "mp_status")),
    Case("av.scan_recent", ("av_products", "mp_status")),
    Case("patch.os_updated", ("hotfixes",)),
    Case("patch.security_updates", ("pending_updates",)),
    Case("sw.no_forbidden_software", ("programs", "processes")),
    Case("sw.no_network_scanners", ("programs", "processes")),
    Case(
        "sw.role_allow_list",
        ("listeners",),
        "insurance_terminal",
        params=Parameters(allowed_ports=(135, 445)),
    ),
    Case("net.insurance_isolated", ("network",), "insurance_terminal"),
    Case("net.settings_unchanged", ("network",), baseline=True),
    Case("net.no_unknown_devices", ("neighbours",), assets=True),
    # A third-party antivirus's scan, judged from its scan log's time (read by PowerShell).
    Case(
        "av.scan_recent",
        ("file_times",),
        cases={"av_products": "huorong", "mp_status": "disabled", "file_times": "huorong_recent"},
        params=Parameters(windows_scan_logs=("C:\\ProgramData\\Huorong\\Sysdiag\\log.db",)),
        label="av.scan_recent(huorong)",
    ),
    # Windows Server without Security Center or Defender: the antivirus's service.
    Case(
        "av.installed_running",
        ("services",),
        "server",
        {"av_products": SERVER_NO_SECURITY_CENTER, "mp_status": "disabled", "services": "huorong_running"},
        label="av.installed_running(server)",
    ),
)
BASELINE = {  # NET-5 as registered from network/isolated.json
    "interfaces": {"以太网": {"mac": "d4:5d:64:1a:2b:3c", "addresses": ["10.88.3.21/24"]}},
    "gateways": [],
    "dns": ["10.88.0.53"],
}


def audit(
    library: Library,
    check: str,
    runner: ReplayRunner,
    role: str = "office_pc",
    *,
    inputs: AuditInputs | None = None,
    params: Parameters | None = None,
) -> CheckResult:
    target = Target("pc-01", role, "windows", "C:\\")  # type: ignore[arg-type]
    overrides = [ParameterOverride(check=check, role=role, parameters=params)] if params is not None else []
    report = run_audit(
        library,
        target,
        runner,
        inputs,
        only=[check],
        now=RECORDED_NOW,
        timeout=20,
        overrides=overrides,
        registry=runner.registry,
    )
    (result,) = report.results
    return result


# A DNS canary nothing answers on (closed loopback UDP port 1; waited for 0.1 s): NET-1 with
# no canary at all is an error ("not configured"), so the healthy cases name one.
SILENT_CANARY = IsolationConfig(dns_canaries=("127.0.0.1:1",), timeout=Duration(0.1))


def inputs_for(case: Case) -> AuditInputs:
    return AuditInputs(
        isolation=SILENT_CANARY,
        leavers=LEAVERS if case.leavers else None,
        assets=REGISTER if case.assets else None,
        network_baseline=BASELINE if case.baseline else None,
    )


def run_case(library: Library, case: Case, **cases: Reading) -> CheckResult:
    runner = replay(**{**case.cases, **cases})
    return audit(library, case.check, runner, case.role, inputs=inputs_for(case), params=case.params)


@dataclass(frozen=True)
class Real:
    """A check judged on outputs transcribed from real machines (see SOURCES.md), and its verdict."""

    name: str
    check: str
    cases: Mapping[str, Reading]
    now: datetime
    expected: str
    role: str = "office_pc"


_SERVER = {"av_products": SERVER_NO_SECURITY_CENTER}
REAL: tuple[Real, ...] = (
    Real(
        "docs_defender_signatures",
        "av.signatures_current",
        {"mp_status": "ms_docs_example"},
        datetime(2013, 7, 31, tzinfo=UTC),
        "pass",
    ),
    Real(
        "docs_defender_scan",
        "av.scan_recent",
        {"mp_status": "ms_docs_example"},
        datetime(2013, 7, 31, tzinfo=UTC),
        "pass",
    ),
    Real(
        "server2022_defender_running",
        "av.installed_running",
        {**_SERVER, "mp_status": "server2022_azure"},
        datetime(2025, 3, 12, tzinfo=UTC),
        "pass",
        "server",
    ),
    Real(
        "server2022_signatures",
        "av.signatures_current",
        {**_SERVER, "mp_status": "server2022_azure"},
        datetime(2025, 3, 12, tzinfo=UTC),
        "pass",
        "server",
    ),
    Real(
        "server2022_never_scanned",
        "av.scan_recent",
        {**_SERVER, "mp_status": "server2022_azure"},
        datetime(2025, 3, 12, tzinfo=UTC),
        "fail",
        "server",
    ),
    Real(
        "kaspersky_defender_off",
        "av.installed_running",
        {**_SERVER, "mp_status": "defender_off_kaspersky"},
        datetime(2025, 1, 23, tzinfo=UTC),
        "fail",
        "server",
    ),
    Real(
        "docs_hotfix_recent",
        "patch.os_updated",
        {"hotfixes": "ms_docs_example"},
        datetime(2019, 5, 20, tzinfo=UTC),
        "pass",
    ),
    Real(
        "docs_hotfix_old",
        "patch.os_updated",
        {"hotfixes": "ms_docs_example"},
        datetime(2019, 7, 1, tzinfo=UTC),
        "fail",
    ),
    Real(
        "new_localuser_password_age",
        "pwd.max_age",
        {"local_users": "new_localuser_issue_11965"},
        datetime(2020, 3, 1, tzinfo=UTC),
        "pass",
    ),
    Real(
        "new_localuser_password_not_required",
        "pwd.login_password_set",
        {"local_users": "new_localuser_issue_11965"},
        datetime(2020, 3, 1, tzinfo=UTC),
        "fail",
    ),
    Real(
        "laptop_adapters_isolated",
        "net.insurance_isolated",
        {"network": "glpi_laptop_10net"},
        RECORDED_NOW,
        "fail",  # Wi-Fi and Bluetooth PAN present though down: anyone can bring them up (NET-2)
        "insurance_terminal",
    ),
    Real(
        "laptop_vpn_down_isolated",
        "net.insurance_isolated",
        {"network": "glpi_laptop_vpn_down"},
        RECORDED_NOW,
        "fail",  # Wi-Fi and Bluetooth PAN present though down: anyone can bring them up (NET-2)
        "insurance_terminal",
    ),
    Real(
        "russian_uninstall_inventory",
        "sw.no_forbidden_software",
        {"programs": "glpi_10_russian"},
        RECORDED_NOW,
        "pass",
    ),
)


def run_real(library: Library, real: Real) -> CheckResult:
    target = Target("pc-01", real.role, "windows", "C:\\")  # type: ignore[arg-type]
    host = replay(**real.cases)
    report = run_audit(
        library,
        target,
        host,
        AuditInputs(isolation=SILENT_CANARY),
        only=[real.check],
        now=real.now,
        timeout=20,
        registry=host.registry,
    )
    (result,) = report.results
    return result


def statuses(library: Library | None = None) -> dict[str, str]:
    """ "check" (healthy), "check/reader/breakage" and "check/reader/empty_inventory" -> status."""
    if library is None:
        library, _ = load_library()
    out: dict[str, str] = {}
    for case in FED:
        out[case.name] = run_case(library, case).status
        for reader in case.readers:
            for how, broken in breakages(reader).items():
                out[f"{case.name}/{reader}/{how}"] = run_case(library, case, **{reader: broken}).status
            if reader in EMPTY_INVENTORIES:
                empty = EMPTY_INVENTORIES[reader]
                out[f"{case.name}/{reader}/empty_inventory"] = run_case(
                    library, case, **{reader: empty}
                ).status
    for real in REAL:
        out[f"real/{real.name}"] = run_real(library, real).status
    return out


if __name__ == "__main__":  # the replay on Windows CPython (tests/windows) runs this file
    import sys

    print(json.dumps({"platform": sys.platform, "statuses": statuses()}, sort_keys=True))
