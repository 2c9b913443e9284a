"""Pure pieces: SNMP value parsers (base units) and the outage book (ROOM-2 thresholds)."""

from __future__ import annotations

import pytest

from collectors.devices import oids, outages, parsers


def test_interfaces_prefer_64bit_counters_and_high_speed() -> None:
    if_table: parsers.Columns = {
        "descr": {"1": b"GE0/0/1", "2": b"GE0/0/2"},
        "oper_status": {"1": 1, "2": 2},
        "admin_status": {"1": 1, "2": 1},
        "speed": {"1": 4294967295, "2": 100_000_000},
        "in_octets": {"1": 5, "2": 7},
        "out_octets": {"1": 6, "2": 8},
    }
    ifx_table: parsers.Columns = {
        "name": {"1": b"GigabitEthernet0/0/1"},
        "hc_in_octets": {"1": 2**40},
        "hc_out_octets": {"1": 2**41},
        "high_speed": {"1": 10_000},
    }
    first, second = parsers.parse_interfaces(if_table, ifx_table)
    assert (first.name, first.up, first.speed_bps, first.in_bytes, first.counters_64bit) == (
        "GigabitEthernet0/0/1", True, 10_000_000_000, 2**40, True,
    )  # fmt: skip
    assert (second.name, second.up, second.in_bytes, second.counters_64bit) == ("GE0/0/2", False, 7, False)


def test_octet_strings_decode_utf8_else_gbk() -> None:
    assert parsers.text("收费处".encode()) == "收费处"
    assert parsers.text("收费处".encode("gbk")) == "收费处"
    assert parsers.text(None) == ""


def test_ups_on_mains_and_on_battery() -> None:
    mains = parsers.parse_ups({oids.UPS_OUTPUT_SOURCE: 3, oids.UPS_BATTERY_STATUS: 2}, {}, {}, {})
    assert mains is not None and not mains.on_battery and mains.battery_status == "normal"
    battery = parsers.parse_ups(
        {oids.UPS_OUTPUT_SOURCE: 5, oids.UPS_CHARGE_REMAINING: 50, oids.UPS_MINUTES_REMAINING: 3},
        {}, {"load": {"1": 20, "2": 80}}, {"descr": {"1": "1.3.6.1.2.1.33.1.6.3.2"}},
    )  # fmt: skip
    assert battery is not None and battery.on_battery
    assert (battery.charge_ratio, battery.runtime_seconds, battery.load_ratio) == (0.5, 180.0, 0.8)
    assert battery.alarms == ("on_battery",)
    assert parsers.parse_ups({}, {}, {}, {}) is None


def test_entity_sensor_scale_and_precision() -> None:
    table: parsers.Columns = {
        "type": {"1": 8, "2": 9, "3": 10},
        "scale": {"1": 8, "2": 9, "3": 9},  # milli-degrees for sensor 1
        "precision": {"1": 0, "2": 1, "3": 0},
        "value": {"1": 23500, "2": 455, "3": 3000},
        "status": {"1": 1, "2": 3, "3": 1},
    }
    temp, hum = parsers.parse_entity_sensors(table, {"name": {"1": b"inlet"}})
    assert (temp.name, temp.kind, temp.value, temp.ok) == ("inlet", "temperature", 23.5, True)
    assert (hum.name, hum.kind, hum.value, hum.ok) == ("sensor2", "humidity", pytest.approx(0.455), False)


def test_outage_opens_closes_and_counts_thresholds() -> None:
    book, changes = outages.update(None, {"sw": (False, "timeout"), "ups": (True, "")}, now=1000.0)
    assert [o.target for o in changes.started] == ["sw"] and not changes.ended
    book, changes = outages.update(book, {"sw": (False, "timeout again")}, now=5000.0)
    assert not changes.started and book["open"]["sw"]["start"] == 1000.0
    [still] = outages.open_outages(book)
    assert outages.over_thresholds(still, now=1000.0 + 7200) == {"2h": True, "4h": False}
    assert outages.over_thresholds(still, now=1000.0 + 7199) == {"2h": False, "4h": False}
    book, changes = outages.update(book, {"sw": (True, "")}, now=1000.0 + 3 * 3600)
    assert [o.seconds(0) for o in changes.ended] == [3 * 3600]
    assert book["open"] == {} and book["totals"] == {"sw": 1}
    assert book["last_restore_seconds"]["sw"] == 3 * 3600
    assert book["over_totals"]["sw"] == {"2h": 1, "4h": 0}
    assert book["history"][-1]["over"] == ["2h"]


def test_host_gap_is_an_outage_only_past_the_allowed_gap() -> None:
    book, none = outages.record_host_gap(None, last_seen=1000.0, now=1200.0, max_gap=300.0)
    assert none is None and book["totals"] == {}
    book, gap = outages.record_host_gap(book, last_seen=1000.0, now=20000.0, max_gap=300.0, boot_time=1500.0)
    assert gap is not None and gap.target == "host" and gap.seconds(0) == 19000.0
    assert "rebooted" in gap.reason and book["over_totals"]["host"] == {"2h": 1, "4h": 1}
