"""No false green, continued: not_applicable results reach /metrics with their reason class,
isolation with nothing to probe is an error, and a wireless or mobile adapter that is merely
down still fails an isolated role."""

from __future__ import annotations

from pathlib import Path

from policies_kit import NOW, AuditFn, RecordedRunner, ip_outputs, write

from agent.exporter.families_audit import audit_families
from agent.records.audit import AuditRecord, AuditSummary
from agent.state import Record, Snapshot
from policies.config import IsolationConfig
from policies.context import AuditInputs, Target
from policies.engine import run_audit
from policies.library import Library
from policies.result import na_class


def test_not_applicable_results_are_exported_with_their_reason_class(
    library: Library, linux_root: Path
) -> None:
    target = Target("pc-01", "office_pc", "linux", str(linux_root), False)  # an offline root
    report = run_audit(library, target, RecordedRunner({}), AuditInputs(), now=NOW)
    stored = AuditRecord(report.host, tuple(report.results), AuditSummary())
    record = Record.of("audit", 1.0, stored.to_json())
    metrics = {m.name: m for m in audit_families(Snapshot(1, records={"audit": record}))}
    reasons = {
        (s.labels["check"], s.labels["rule"]): s.labels["reason"]
        for s in metrics["hostward_check_not_applicable"].samples
    }
    assert reasons[("sw.no_im_on_dedicated", "SW-2")] == "role"  # a terminal-only check on an office PC
    assert reasons[("acc.leavers_disabled", "ACC-1")] == "not_configured"  # no leavers list
    assert reasons[("sys.time_sync", "ROOM-6")] == "offline_root"  # needs the running system
    assert not any(check.startswith("win.") for check, _ in reasons)  # another platform: not exported
    assert all(s.value == 1.0 for s in metrics["hostward_check_not_applicable"].samples)
    judged = {s.labels["check"] for s in metrics["hostward_check_status"].samples}
    assert judged.isdisjoint(check for check, _ in reasons)  # never counted as judged either


def test_every_not_applicable_result_of_a_full_audit_has_a_class(library: Library, linux_root: Path) -> None:
    for live in (True, False):
        target = Target("pc-01", "server", "linux", str(linux_root), live)
        report = run_audit(library, target, RecordedRunner({}), AuditInputs(), now=NOW)
        for result in report.results:
            assert (na_class(result) is None) == (result.status != "not_applicable"), result.check


LINKS = [
    {"ifname": "lo", "link_type": "loopback", "flags": ["LOOPBACK", "UP"], "operstate": "UNKNOWN"},
    {
        "ifname": "eth0",
        "link_type": "ether",
        "flags": ["UP"],
        "operstate": "UP",
        "address": "52:54:00:aa:bb:01",
    },
    {
        "ifname": "wlp2s0",
        "link_type": "ether",
        "flags": [],
        "operstate": "DOWN",
        "address": "52:54:00:aa:bb:02",
    },
    {"ifname": "wwan0", "link_type": "none", "flags": [], "operstate": "DOWN"},
]
ADDRS = [{"ifname": "eth0", "addr_info": [{"local": "10.88.3.20", "prefixlen": 24}]}]
ROUTES = [{"dst": "10.88.3.0/24", "dev": "eth0"}]


def adapters(root: Path, *, wifi: str | None, wwan: bool) -> RecordedRunner:
    write(root, "/sys/class/net/eth0/device/vendor", "0x8086\n")
    write(root, "/etc/resolv.conf", "nameserver 10.88.0.53\n")
    links = [LINKS[0], LINKS[1]]
    if wifi is not None:  # how the kernel marks a Wi-Fi adapter: a phy80211 link or a wireless dir
        write(root, "/sys/class/net/wlp2s0/uevent", "INTERFACE=wlp2s0\nIFINDEX=3\n")
        (root / "sys/class/net/wlp2s0" / wifi).mkdir(parents=True)
        links.append(LINKS[2])
    if wwan:
        write(root, "/sys/class/net/wwan0/uevent", "DEVTYPE=wwan\nINTERFACE=wwan0\n")
        links.append(LINKS[3])
    return RecordedRunner(ip_outputs(links, ADDRS, ROUTES))


def test_a_wifi_adapter_that_is_down_still_fails_an_isolated_terminal(
    check: AuditFn, linux_root: Path
) -> None:
    role = "insurance_terminal"
    wired = check(
        linux_root, "net.insurance_isolated", role=role, runner=adapters(linux_root, wifi=None, wwan=False)
    )
    assert wired.status == "pass", wired.reason
    for marker in ("phy80211", "wireless"):
        root = linux_root.parent / marker
        write(root, "/etc/hostname", "pc\n")
        result = check(
            root,
            "net.intranet_no_outside_line",
            role="clinical_terminal",
            runner=adapters(root, wifi=marker, wwan=False),
        )
        assert result.status == "fail"
        assert result.reason == "wireless interface wlp2s0 is present (down; anyone can bring it up)"
        assert "存在（未启用" in result.reason_zh


def test_a_4g_modem_that_is_down_fails_an_isolated_terminal(check: AuditFn, linux_root: Path) -> None:
    runner = adapters(linux_root, wifi=None, wwan=True)
    result = check(linux_root, "net.insurance_isolated", role="insurance_terminal", runner=runner)
    assert result.status == "fail" and "wwan interface wwan0 is present" in result.reason


def test_isolation_with_no_canary_configured_is_an_error_not_configured(
    check: AuditFn, linux_root: Path
) -> None:
    runner = adapters(linux_root, wifi=None, wwan=False)
    bare = IsolationConfig(private_targets=())
    result = check(
        linux_root, "net.insurance_isolated", role="insurance_terminal", runner=runner, isolation=bare
    )
    assert result.status == "error"
    assert "not configured: no internet canary" in result.reason and "未配置" in result.reason_zh
    egress = check(linux_root, "net.server_no_egress", role="server", runner=runner, isolation=bare)
    assert egress.status == "error" and "not configured" in egress.reason


def test_a_real_windows_laptop_with_wifi_disconnected_fails_an_isolated_role(library: Library) -> None:
    from windows_cases import REAL, run_real

    (laptop,) = [r for r in REAL if r.name == "laptop_adapters_isolated"]  # GLPI's recorded adapters
    result = run_real(library, laptop)
    assert result.status == "fail"
    assert "wireless interface Wi-Fi is present (down; anyone can bring it up)" in result.reason
    assert "is up" not in result.reason
