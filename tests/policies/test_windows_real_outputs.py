"""Windows checks on outputs transcribed from real machines and Microsoft's documentation, and
the rule that every Windows fixture says where it came from (its folder's SOURCES.md)."""

from __future__ import annotations

import json
import re

import pytest
from windows_cases import FIXTURES, REAL, Real, replay, run_real

from collectors.system.windows import network as win_net
from collectors.system.windows.readers import parse_mp_status
from policies.library import Library

_ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| (?P<source>.+) \|$")


def _sources(folder: str) -> dict[str, str]:
    text = (FIXTURES / folder / "SOURCES.md").read_text(encoding="utf-8")
    return {m["file"]: m["source"] for line in text.splitlines() if (m := _ROW.match(line))}


def test_every_windows_fixture_names_its_source_or_why_it_is_hand_written() -> None:
    folders = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    assert len(folders) >= 17
    for folder in folders:
        rows = _sources(folder)
        files = sorted(p.name for p in (FIXTURES / folder).glob("*.json"))
        assert sorted(rows) == files, folder  # no fixture without a row, no row without a fixture
        for name, source in rows.items():
            written = source.startswith("hand-written: ") and len(source) > len("hand-written: ") + 10
            assert written or re.search(r"https://\S+", source), (folder, name, source)


def test_real_outputs_are_transcribed_from_a_public_address() -> None:
    real = [
        ("mp_status", "ms_docs_example.json", "learn.microsoft.com"),
        (
            "mp_status",
            "defender_off_kaspersky.json",
            "github.com/farag2/Sophia-Script-for-Windows/issues/605",
        ),
        ("mp_status", "server2022_azure.json", "github.com/glpi-project/glpi-agent/issues/868"),
        ("hotfixes", "ms_docs_example.json", "learn.microsoft.com"),
        ("local_users", "new_localuser_issue_11965.json", "github.com/PowerShell/PowerShell/issues/11965"),
        ("network", "glpi_laptop_10net.json", "glpi-agent/blob/"),
        ("programs", "glpi_10_russian.json", "10_russian-Uninstall.reg"),
    ]
    for folder, name, where in real:
        source = _sources(folder)[name]
        assert where in source and "transcribed" in source, (folder, name)


@pytest.mark.parametrize("real", [pytest.param(r, id=r.name) for r in REAL])
def test_checks_on_real_outputs_reach_the_verdict_the_machine_deserves(library: Library, real: Real) -> None:
    result = run_real(library, real)
    assert result.status == real.expected, result.reason


def test_documented_defender_status_reads_as_on_with_current_signatures() -> None:
    status = parse_mp_status(json.loads((FIXTURES / "mp_status/ms_docs_example.json").read_text()))
    assert status is not None
    assert (status.service_enabled, status.realtime, status.on_access) == (True, True, True)
    assert (status.signature_age_days, status.quick_scan_age_days, status.full_scan_age_days) == (0, 0, None)
    assert status.signature_version == "1.155.1107.0"


def test_defender_stood_down_for_kaspersky_reads_as_never_updated_never_scanned() -> None:
    status = parse_mp_status(json.loads((FIXTURES / "mp_status/defender_off_kaspersky.json").read_text()))
    assert status is not None and not status.service_enabled and not status.antivirus_enabled
    assert (status.signature_age_days, status.full_scan_age_days) == (None, None)  # 65535, 4294967295


def test_a_real_server_2022_with_defender_and_no_security_center_passes_with_the_reason(
    library: Library,
) -> None:
    (real,) = [r for r in REAL if r.name == "server2022_defender_running"]
    assert "Security Center absent; Microsoft Defender is running" in run_real(library, real).reason
    (scan,) = [r for r in REAL if r.name == "server2022_never_scanned"]
    assert "no scan has ever completed" in run_real(library, scan).reason


def test_a_user_made_by_new_localuser_is_flagged_password_not_required(library: Library) -> None:
    (real,) = [r for r in REAL if r.name == "new_localuser_password_not_required"]
    assert run_real(library, real).evidence["password_not_required"] == ["Test1"]
    (age,) = [r for r in REAL if r.name == "new_localuser_password_age"]
    assert run_real(library, age).evidence["accounts"]["Test1"]["max_days"] == 42


def test_real_laptop_adapters_are_classified_wired_wireless_and_bluetooth_tether() -> None:
    data = json.loads((FIXTURES / "network/glpi_laptop_10net.json").read_text(encoding="utf-8"))
    interfaces, routes, dns = win_net.parse_network(data)
    kinds = {i.name: (i.kind, i.up) for i in interfaces}
    assert kinds["Ethernet 4"] == ("wired", True)
    assert kinds["Wi-Fi"] == ("wireless", False)
    assert kinds["Connexion réseau Bluetooth 3"] == ("tether", False)
    assert next(i.mac for i in interfaces if i.name == "Ethernet 4") == "00:50:b6:00:00:6d"
    assert (routes, dns) == ([], [])


def test_a_connected_bluetooth_pan_fails_isolation_like_usb_tethering(library: Library) -> None:
    from policies.context import Target
    from policies.engine import run_audit

    data = json.loads((FIXTURES / "network/glpi_laptop_10net.json").read_text(encoding="utf-8"))
    for adapter in data["adapters"]:
        if adapter["PhysicalMediaType"] == "BlueTooth":
            adapter["Status"] = "Up"  # the same adapter, paired and connected to a phone
    target = Target("pc-01", "insurance_terminal", "windows", "C:\\")
    runner = replay(network=json.dumps(data).encode())
    (result,) = run_audit(library, target, runner, None, only=["net.insurance_isolated"]).results
    assert result.status == "fail" and "tether interface Connexion réseau Bluetooth 3 is up" in result.reason
