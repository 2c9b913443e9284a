"""NET-6 (devices not in the asset register) and NET-7 (internet access by staff class).

Hand-written `ip -j neigh` / Get-NetNeighbor outputs (in the shape the tools print) for the
parsing and the verdicts, then the real thing between network namespaces this test creates: a
PC with a registered neighbour and an unregistered one, and destinations a class B PC must and
must not reach. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from policies_kit import AuditFn, RecordedRunner
from windows_kit import runner

from policies.assets import AssetsError, normalise_mac, parse_assets, read_assets
from policies.config import AccessClass, InternetAccessConfig

HERE = Path(__file__).parent
NEIGH = ("ip", "-j", "neigh", "show")
RECORDED_NEIGH = [
    {"dst": "192.168.10.1", "dev": "eth0", "lladdr": "00:1a:2b:3c:4d:5e", "state": ["REACHABLE"]},
    {"dst": "192.168.10.20", "dev": "eth0", "lladdr": "3c:97:0e:aa:bb:cc", "state": ["STALE"]},
    {
        "dst": "fe80::3e97:eff:feaa:bbcc",
        "dev": "eth0",
        "lladdr": "3c:97:0e:aa:bb:cc",
        "router": None,
        "state": ["STALE"],
    },
    {"dst": "192.168.10.99", "dev": "eth0", "state": ["FAILED"]},
    {"dst": "224.0.0.251", "dev": "eth0", "lladdr": "01:00:5e:00:00:fb", "state": ["NOARP"]},
]
REGISTER = {"00:1a:2b:3c:4d:5e": "core switch", "3c:97:0e:aa:bb:cc": "财务室 PC-07"}


def test_mac_spellings_normalise_to_one_form() -> None:
    for text in ("00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e", "001A2B3C4D5E", "00:1a:2b:3c:4d:5e"):
        assert normalise_mac(text) == "00:1a:2b:3c:4d:5e"
    assert normalise_mac("00:1a:2b:3c:4d") is None and normalise_mac("zz:1a:2b:3c:4d:5e") is None


def test_register_csv_in_gb18030_with_header(tmp_path: Path) -> None:
    path = tmp_path / "assets.csv"
    path.write_bytes("mac,name,ip\n00-1A-2B-3C-4D-5E,财务室打印机,192.168.10.5\n".encode("gb18030"))
    assert read_assets(str(path)) == {"00:1a:2b:3c:4d:5e": "财务室打印机"}
    with pytest.raises(AssetsError, match=":2:"):
        parse_assets("mac,name\nnot-a-mac,x\n", "assets.csv")


def test_registered_neighbours_pass(check: AuditFn) -> None:
    r = RecordedRunner({NEIGH: json.dumps(RECORDED_NEIGH).encode()})
    result = check("/", "net.no_unknown_devices", runner=r, assets=REGISTER)
    assert result.status == "pass", result.reason
    assert result.evidence["neighbours_seen"] == 2  # multicast and unresolved entries are not devices


def test_unregistered_neighbour_fails_with_its_mac_and_addresses(check: AuditFn) -> None:
    r = RecordedRunner({NEIGH: json.dumps(RECORDED_NEIGH).encode()})
    result = check("/", "net.no_unknown_devices", runner=r, assets={"00:1a:2b:3c:4d:5e": "core switch"})
    assert result.status == "fail"
    assert result.evidence["unknown"] == [
        {
            "mac": "3c:97:0e:aa:bb:cc",
            "addresses": ["192.168.10.20", "fe80::3e97:eff:feaa:bbcc"],
            "device": "eth0",
            "state": "STALE",
        }
    ]
    assert "未登记" in result.reason_zh


def test_no_register_is_not_applicable_and_unreadable_is_an_error(check: AuditFn) -> None:
    r = RecordedRunner({NEIGH: b"[]"})
    assert check("/", "net.no_unknown_devices", runner=r).status == "not_applicable"
    assert check("/", "net.no_unknown_devices", runner=r, assets={}, assets_error="missing").status == "error"
    assert check("/", "net.no_unknown_devices", runner=RecordedRunner({}), assets=REGISTER).status == "error"


def test_windows_neighbour_table_pass_and_rogue_router_fail(win: AuditFn) -> None:
    register = {"00:1a:2b:3c:4d:5e": "core switch"}
    ok = win("net.no_unknown_devices", runner=runner(neighbours="registered"), assets=register)
    assert ok.status == "pass", ok.reason
    rogue = win("net.no_unknown_devices", runner=runner(neighbours="rogue_router"), assets=register)
    assert rogue.status == "fail" and rogue.evidence["unknown"][0]["mac"] == "d4:ee:07:11:22:33"


def test_class_comes_from_the_host_then_the_role() -> None:
    b, c = AccessClass("B"), AccessClass("C")
    config = InternetAccessConfig(classes=(b, c), class_by_role={"office_pc": "C"})
    assert config.class_for("office_pc") == c and config.class_for("server") is None
    assert (
        InternetAccessConfig(classes=(b, c), class_by_role={"office_pc": "C"}, host_class="B").class_for(
            "office_pc"
        )
        == b
    )


def test_host_without_a_class_is_not_applicable(check: AuditFn) -> None:
    assert check("/", "net.internet_by_class").status == "not_applicable"


# --- the real thing, between namespaces -------------------------------------------------------

SERVER = r"""
import socket, sys, threading
def tcp(addr, port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16)
    while True:
        c, _ = s.accept(); c.close()
threading.Thread(target=tcp, args=(sys.argv[1], int(sys.argv[2])), daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
"""
MAC_MAIL, MAC_ROGUE = "02:00:00:0b:00:01", "02:00:00:0c:00:01"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def lan() -> Iterator[dict[str, str]]:
    """pc (10.210.0.1) -- veth -- mail (10.210.0.2, the mail server, registered)
    -- veth -- rogue (10.210.1.2, someone's own router, unregistered)"""
    tag = f"hx{os.getpid() % 100000}"
    names = {"pc": f"{tag}pc", "mail": f"{tag}mail", "rogue": f"{tag}rog"}
    try:
        ip("netns", "add", names["pc"])
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"cannot create network namespaces here (needs root and iproute2): {exc}")
    servers: list[subprocess.Popen[str]] = []
    try:
        for key in ("mail", "rogue"):
            ip("netns", "add", names[key])
        for n, (key, mac) in enumerate((("mail", MAC_MAIL), ("rogue", MAC_ROGUE))):
            ip(
                "-n",
                names["pc"],
                "link",
                "add",
                f"to{key}",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                names[key],
            )
            ip("-n", names[key], "link", "set", "eth0", "address", mac)
            ip("-n", names["pc"], "addr", "add", f"10.210.{n}.1/24", "dev", f"to{key}")
            ip("-n", names[key], "addr", "add", f"10.210.{n}.2/24", "dev", "eth0")
            for ns, dev in ((names["pc"], f"to{key}"), (names[key], "eth0"), (names[key], "lo")):
                ip("-n", ns, "link", "set", dev, "up")
        for key, addr in (("mail", "10.210.0.2"), ("rogue", "10.210.1.2")):
            server = subprocess.Popen(
                ["ip", "netns", "exec", names[key], sys.executable, "-c", SERVER, addr, "8443"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            servers.append(server)
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield names
    finally:
        for server in servers:
            server.kill()
            server.wait()
        for ns in names.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def audit_in(ns: str, config: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, str(HERE / "netns_access.py"), json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=HERE.parent.parent,
        env={**os.environ, "PYTHONPATH": str(HERE.parent.parent)},
    )
    assert out.returncode == 0, out.stderr
    return {r["check"]: r for r in json.loads(out.stdout)["results"]}


CLASSES = [
    # B: mail (10.210.0.2) allowed; an internet address with no route from this LAN denied.
    {"name": "B", "allowed": ["10.210.0.2:8443"], "denied": ["10.220.0.1:443"]},
    # C: mail denied too, but the LAN lets it through: the filter is missing.
    {"name": "C", "allowed": [], "denied": ["10.210.0.2:8443", "10.220.0.1:443"]},
]
TALK = [["10.210.0.2", 8443], ["10.210.1.2", 8443]]


def test_real_neighbour_table_finds_the_unregistered_router(lan: dict[str, str]) -> None:
    registered = {MAC_MAIL: "mail server", MAC_ROGUE: "branch router (approved)"}
    ok = audit_in(lan["pc"], {"assets": registered, "classes": CLASSES, "host_class": "B", "talk_to": TALK})
    assert ok["net.no_unknown_devices"]["status"] == "pass", ok["net.no_unknown_devices"]["reason"]
    assert ok["net.no_unknown_devices"]["evidence"]["neighbours_seen"] == 2
    bad = audit_in(
        lan["pc"],
        {"assets": {MAC_MAIL: "mail server"}, "classes": CLASSES, "host_class": "B", "talk_to": TALK},
    )
    result = bad["net.no_unknown_devices"]
    assert result["status"] == "fail"
    assert [(u["mac"], u["addresses"]) for u in result["evidence"]["unknown"]] == [
        (MAC_ROGUE, ["10.210.1.2"])
    ]


def test_class_b_reaches_mail_only_and_class_c_leak_fails(lan: dict[str, str]) -> None:
    b = audit_in(lan["pc"], {"classes": CLASSES, "host_class": "B"})["net.internet_by_class"]
    assert b["status"] == "pass", b["reason"]
    assert {p["target"]: p["reachable"] for p in b["evidence"]["probes"]} == {
        "10.210.0.2:8443": True,
        "10.220.0.1:443": False,
    }
    c = audit_in(lan["pc"], {"classes": CLASSES, "host_class": "C"})["net.internet_by_class"]
    assert c["status"] == "fail"
    assert "denied 10.210.0.2:8443 reachable" in c["reason"] and "应禁止" in c["reason_zh"]
