"""Every worked example of policies/README.md, loaded from the README and run on a compliant
and a non-compliant system: the documentation cannot drift from what the probe does."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conditions_kit import SeceditRunner, systemctl
from memory_registry import MemoryRegistry
from policies_kit import FIXTURES, NOW, RecordedRunner, write

from collectors.system.windows.registry import dword
from policies.context import AuditInputs, Target
from policies.engine import run_audit
from policies.library import load_library
from policies.result import CheckResult

README = Path(__file__).parents[2] / "policies" / "README.md"


def readme_examples() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- conditions-examples -->")[1].split("<!-- /conditions-examples -->")[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    return {re.search(r"- id: (\S+)", b).group(1): b for b in blocks}  # type: ignore[union-attr]


NFT = ("nft", "list", "chain", "inet", "filter", "input")
# Hand-written in the layout `nft list chain` prints (nftables 1.0.x); nft needs root to run here.
NFT_DROP = (
    b"table inet filter {\n\tchain input {\n"
    b"\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n"
)
NFT_ACCEPT = NFT_DROP.replace(b"policy drop", b"policy accept")
TELNET = "   2: 00000000:0017 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3\n"
AUTORUN = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer"

Setup = Callable[[Path, bool], dict[str, Any]]


def ssh(root: Path, good: bool) -> dict[str, Any]:
    path = write(root, "/etc/ssh/sshd_config", f"Port 22\nPermitRootLogin {'no' if good else 'yes'}\n")
    os.chmod(path, 0o644)
    return {}


def telnet(root: Path, good: bool) -> dict[str, Any]:
    if not good:
        tcp = (root / "proc/net/tcp").read_text() + TELNET
        write(root, "/proc/net/tcp", tcp)
    return {}


def ip_forward(root: Path, good: bool) -> dict[str, Any]:
    write(root, "/proc/sys/net/ipv4/ip_forward", "0\n")
    write(root, "/etc/sysctl.d/60-hostward.conf", f"net.ipv4.ip_forward = {0 if good else 1}\n")
    return {}


def firewire(root: Path, good: bool) -> dict[str, Any]:
    lines = "install firewire-sbp2 /bin/false\nblacklist firewire-sbp2\n"
    write(root, "/etc/modprobe.d/firewire.conf", lines if good else "blacklist firewire-sbp2\n")
    return {}


def time_sync(root: Path, good: bool) -> dict[str, Any]:
    chrony = systemctl("chrony.service", "active" if good else "failed", "enabled")
    timesyncd = systemctl("systemd-timesyncd.service", "inactive", "")
    return {"runner": RecordedRunner(dict([chrony, timesyncd]))}


def firewall(root: Path, good: bool) -> dict[str, Any]:
    return {"runner": RecordedRunner({NFT: NFT_DROP if good else NFT_ACCEPT})}


def guest(root: Path, good: bool) -> dict[str, Any]:
    export = FIXTURES / "windows" / "secedit" / ("guest_off.inf" if good else "guest_on.inf")
    return {"platform": "windows", "runner": SeceditRunner(export)}


def autorun(root: Path, good: bool) -> dict[str, Any]:
    registry = MemoryRegistry()
    registry.set(AUTORUN, "NoDriveTypeAutoRun", dword(255 if good else 145))
    return {"platform": "windows", "registry": registry}


SETUPS: dict[str, Setup] = {
    "site.ssh_no_root_login": ssh,
    "site.no_telnet": telnet,
    "site.ip_forward_off": ip_forward,
    "site.firewire_blocked": firewire,
    "site.time_sync": time_sync,
    "site.firewall_on": firewall,
    "site.guest_off": guest,
    "site.autorun_off": autorun,
}


def run_example(tmp_path: Path, root: Path, check_id: str, good: bool) -> CheckResult:
    policies = tmp_path / "policies"
    write(policies, f"/{check_id}.yaml", readme_examples()[check_id]).chmod(0o644)  # whatever the umask
    library, problems = load_library([str(policies)])
    assert problems == []
    setup = SETUPS[check_id](root, good)
    target = Target("pc-01", "office_pc", setup.get("platform", "linux"), str(root), True)
    inputs = AuditInputs(registry=setup.get("registry"))
    runner = setup.get("runner") or RecordedRunner({})
    report = run_audit(library, target, runner, inputs, only=[check_id], now=NOW, timeout=10)
    (result,) = report.results
    return result


def test_the_readme_has_at_least_six_examples_and_each_has_a_test_system() -> None:
    examples = readme_examples()
    assert len(examples) >= 6
    assert set(examples) == set(SETUPS)


@pytest.mark.parametrize("check_id", sorted(SETUPS))
def test_each_readme_example_passes_on_a_compliant_system_and_fails_on_a_broken_one(
    tmp_path: Path, linux_root: Path, check_id: str
) -> None:
    good = run_example(tmp_path / "good", linux_root, check_id, True)
    assert good.status == "pass", good.reason
    assert good.evidence["conditions"] and all(c["held"] for c in good.evidence["conditions"])
    bad = run_example(tmp_path / "bad", linux_root, check_id, False)
    assert bad.status == "fail", bad.reason
    assert bad.reason and bad.reason_zh and bad.reason != bad.reason_zh
