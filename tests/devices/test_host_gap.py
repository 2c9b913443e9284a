"""The agent's own host in the outage book: how long it may go unseen follows the device rounds'
real schedule (`devices_schedule.poll`, or `power` when that round runs alone), not a fixed 60 s."""

from __future__ import annotations

from pathlib import Path

from agent.actions.devices import NETWORK, poll_and_record
from agent.config.schema import Config
from agent.state import State
from collectors.devices.config import DeviceConfig, DevicesSchedule, SnmpConfig
from common.schema import Duration
from common.schema.common import Schedule

T0 = 1_000_000.0


def host_outages(config: Config, tmp_path: Path, gap: float) -> int:
    """Two rounds `gap` seconds apart (no device polled); the host outages then recorded."""
    state = State.open(tmp_path / "state")
    try:
        poll_and_record(config, state, now=T0, boot_time=0.0, round_=NETWORK)
        after = poll_and_record(config, state, now=T0 + gap, boot_time=0.0, round_=NETWORK)
        return int(after.book["totals"].get("host", 0))
    finally:
        state.close()


def test_a_host_polled_every_ten_minutes_is_not_down_after_twenty(tmp_path: Path) -> None:
    every_10m = Schedule(every=Duration(600), timeout=Duration(30))
    config = Config(devices_schedule=DevicesSchedule(poll=every_10m))
    assert host_outages(config, tmp_path / "a", gap=20 * 60) == 0  # 3 rounds of 10 min allowed
    assert host_outages(config, tmp_path / "b", gap=31 * 60) == 1


def test_the_power_round_alone_sets_the_allowed_gap(tmp_path: Path) -> None:
    snmp = SnmpConfig(version="2c", community_file="/dev/null")
    ups = DeviceConfig("ups-1", "ups", "127.0.0.1:1", snmp=snmp)
    config = Config(
        devices=(ups,),
        devices_schedule=DevicesSchedule(
            poll=Schedule(every=Duration(60), enabled=False),
            power=Schedule(every=Duration(150), timeout=Duration(30)),
        ),
    )
    assert host_outages(config, tmp_path / "a", gap=400) == 0  # 3 x 150 s
    assert host_outages(config, tmp_path / "b", gap=460) == 1


def test_after_an_upgrade_the_heartbeat_an_older_version_kept_as_a_key_still_counts(tmp_path: Path) -> None:
    every_10m = Schedule(every=Duration(600), timeout=Duration(30))
    config = Config(devices_schedule=DevicesSchedule(poll=every_10m))
    state = State.open(tmp_path / "state")
    try:
        state.put("devices.host_last_seen", T0)  # where versions before the record field kept it
        after = poll_and_record(config, state, now=T0 + 31 * 60, boot_time=0.0, round_=NETWORK)
        assert after.book["totals"] == {"host": 1}
        again = poll_and_record(config, state, now=T0 + 32 * 60, boot_time=0.0, round_=NETWORK)
        assert again.book["totals"] == {"host": 1}  # the record's heartbeat now: the key is not read again
    finally:
        state.close()
