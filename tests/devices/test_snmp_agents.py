"""Polling real agents on loopback: Debian snmpd (v2c, v3 authPriv) and snmpsim recordings."""

from __future__ import annotations

import time

import pytest
from devices_kit import Snmpd, Snmpsim, free_udp_port, v3

from collectors.devices.config import DeviceConfig, SnmpConfig
from collectors.devices.poll import poll_devices
from collectors.devices.records import DeviceResult


def v2c(name: str, kind: str, port: int, community_file: str, **snmp: object) -> DeviceConfig:
    return DeviceConfig(
        name,
        kind,
        f"127.0.0.1:{port}",
        site="room-1",  # type: ignore[arg-type]
        snmp=SnmpConfig(version="2c", community_file=community_file, **snmp),  # type: ignore[arg-type]
    )


def by_name(results: list[DeviceResult]) -> dict[str, DeviceResult]:
    return {r.name: r for r in results}


def test_snmpd_v2c_reports_system_interfaces_and_storage(snmpd: Snmpd) -> None:
    [result] = poll_devices([v2c("core-router", "router", snmpd.port, snmpd.community_file)])
    assert result.up, result.reason
    assert result.system is not None
    assert result.system.name == "lab-router"
    assert result.system.location == "机房 Room 101"
    assert result.system.object_id.startswith("1.3.6.1.4.1.8072.")
    assert result.system.uptime_seconds is not None and result.system.uptime_seconds >= 0
    names = {i.name for i in result.interfaces}
    assert "lo" in names
    lo = next(i for i in result.interfaces if i.name == "lo")
    assert lo.up and lo.counters_64bit and lo.in_bytes is not None
    ram = [s for s in result.storage if s.type == "ram"]
    assert ram and ram[0].size_bytes > 0 and 0 < ram[0].used_bytes <= ram[0].size_bytes


def test_snmpd_v3_authpriv_sha2_aes_answers(snmpd: Snmpd) -> None:
    [result] = poll_devices([v3("secure", snmpd, snmpd.auth_key_file, snmpd.priv_key_file)])
    assert result.up, result.reason
    assert result.system is not None and result.system.name == "lab-router"


@pytest.mark.parametrize("engine", ["native", "pysnmp"])
def test_snmpd_v3_wrong_auth_key_is_refused_with_a_clear_reason(snmpd: Snmpd, engine: str) -> None:
    [result] = poll_devices(
        [v3("wrong-auth", snmpd, snmpd.wrong_key_file, snmpd.priv_key_file)], v2c_engine=engine
    )
    assert not result.up
    assert "authentication failed: wrong auth key" in result.reason


@pytest.mark.parametrize("engine", ["native", "pysnmp"])
def test_snmpd_v3_wrong_priv_key_is_down_and_says_privacy_key(snmpd: Snmpd, engine: str) -> None:
    [result] = poll_devices(
        [v3("wrong-priv", snmpd, snmpd.auth_key_file, snmpd.wrong_key_file)], v2c_engine=engine
    )
    assert not result.up
    assert "privacy key" in result.reason


def test_wrong_community_is_down_within_its_budget(snmpd: Snmpd, tmp_path: object) -> None:
    from devices_kit import secret

    bad = secret(tmp_path / "bad-community", "not-this-one")  # type: ignore[operator]
    started = time.monotonic()
    [result] = poll_devices([v2c("bad", "router", snmpd.port, bad, timeout=1)])
    assert not result.up and "wrong community" in result.reason
    assert time.monotonic() - started < 1.8


def test_ups_on_mains_reads_rfc1628_values(snmpsim: Snmpsim) -> None:
    device = v2c("ups-a", "ups", snmpsim.ports[0], str(snmpsim.community_dir / "ups-mains"))
    [result] = poll_devices([device])
    assert result.up, result.reason
    ups = result.ups
    assert ups is not None
    assert ups.on_battery is False and ups.output_source == "normal"
    assert ups.battery_status == "normal"
    assert ups.charge_ratio == pytest.approx(0.95)
    assert ups.runtime_seconds == 42 * 60
    assert ups.load_ratio == pytest.approx(0.37)
    assert ups.input_voltage_volts == (221.0,) and ups.output_voltage_volts == (220.0,)
    assert ups.alarms == ()
    assert result.system is not None and result.system.uptime_seconds == 86400.0


def test_ups_on_battery_reports_battery_low_and_alarms(snmpsim: Snmpsim) -> None:
    device = v2c("ups-b", "ups", snmpsim.ports[1], str(snmpsim.community_dir / "ups-battery"))
    [result] = poll_devices([device])
    assert result.up, result.reason
    ups = result.ups
    assert ups is not None
    assert ups.on_battery is True and ups.output_source == "battery"
    assert ups.battery_status == "low" and ups.seconds_on_battery == 310
    assert ups.load_ratio == pytest.approx(0.63)
    assert ups.output_voltage_volts == (219.0, 218.0)
    assert ups.alarms == ("on_battery", "low_battery")


def test_room_sensor_reads_entity_sensor_and_apc_probes(snmpsim: Snmpsim) -> None:
    room = v2c("room", "sensor", snmpsim.ports[0], str(snmpsim.community_dir / "room-sensor"))
    apc = v2c("apc", "sensor", snmpsim.ports[1], str(snmpsim.community_dir / "apc-probe"))
    results = by_name(poll_devices([room, apc]))
    sensors = {(s.name, s.kind): s for s in results["room"].sensors}
    assert set(sensors) == {("Room temperature", "temperature"), ("Room humidity", "humidity")}
    assert sensors["Room temperature", "temperature"].value == pytest.approx(23.5)
    assert sensors["Room humidity", "humidity"].value == pytest.approx(0.45)
    probes = {(s.name, s.kind): s for s in results["apc"].sensors}
    assert set(probes) == {
        ("Rack A front", "temperature"),
        ("Rack B rear", "temperature"),
        ("Rack B rear", "humidity"),
    }
    assert probes["Rack B rear", "humidity"].value == pytest.approx(0.49)
    assert probes["Rack A front", "temperature"].ok and not probes["Rack B rear", "temperature"].ok


def test_dead_device_costs_only_its_own_timeout(snmpsim: Snmpsim, snmpd: Snmpd, blackhole: int) -> None:
    dead_port = blackhole
    devices = [
        v2c("dead", "switch", dead_port, snmpd.community_file, timeout=1.5),
        v2c("live-ups", "ups", snmpsim.ports[0], str(snmpsim.community_dir / "ups-mains"), timeout=1.5),
        v2c("live-router", "router", snmpd.port, snmpd.community_file, timeout=1.5),
    ]
    started = time.monotonic()
    results = by_name(poll_devices(devices))
    took = time.monotonic() - started
    assert not results["dead"].up and "no answer within 1.5s" in results["dead"].reason
    assert results["live-ups"].up and results["live-router"].up
    assert results["live-ups"].duration_seconds < 1.0
    assert took < 2.5  # concurrent: the dead one's 1.5 s, not the sum


def test_closed_port_is_reported_at_once_as_unreachable(snmpd: Snmpd) -> None:
    started = time.monotonic()
    [result] = poll_devices([v2c("closed", "switch", free_udp_port(), snmpd.community_file, timeout=3)])
    assert not result.up and "port unreachable" in result.reason
    assert time.monotonic() - started < 1.0


def test_v2c_through_pysnmp_reads_the_same_as_the_builtin_codec(snmpd: Snmpd, snmpsim: Snmpsim) -> None:
    devices = [
        v2c("router", "router", snmpd.port, snmpd.community_file),
        v2c("ups", "ups", snmpsim.ports[0], str(snmpsim.community_dir / "ups-battery")),
        v2c("room", "sensor", snmpsim.ports[1], str(snmpsim.community_dir / "room-sensor")),
    ]
    native = by_name(poll_devices(devices))
    through_pysnmp = by_name(poll_devices(devices, v2c_engine="pysnmp"))
    for name in ("ups", "room"):
        assert native[name].ups == through_pysnmp[name].ups
        assert native[name].sensors == through_pysnmp[name].sensors
        assert native[name].system == through_pysnmp[name].system
    assert [i.name for i in native["router"].interfaces] == [
        i.name for i in through_pysnmp["router"].interfaces
    ]
    assert [s.descr for s in native["router"].storage] == [s.descr for s in through_pysnmp["router"].storage]


def test_walk_stops_at_max_rows_and_says_so(snmpd: Snmpd) -> None:
    [result] = poll_devices([v2c("capped", "router", snmpd.port, snmpd.community_file, max_rows=2)])
    assert result.up
    assert len(result.interfaces) == 2
    assert any("more than 2 rows; table cut" in w for w in result.warnings)
