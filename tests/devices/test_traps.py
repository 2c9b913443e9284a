"""The trap receiver against real traps from net-snmp's `snmptrap` (v2c and v3 authPriv), and
against malformed datagrams: state changed at once, BAK-6 requested, the event journaled,
everything else counted and dropped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from devices_kit import free_udp_port, secret
from testkit import wait_for

from agent.config.schema import Config
from agent.device_events import DeviceEvents, read
from agent.exporter.families_traps import trap_families
from agent.exporter.render import MetricsRenderer
from agent.journal import Journal
from agent.records.devices import DevicesRecord
from agent.report.daily_html import render_daily
from agent.state import State
from agent.traps.receiver import TrapReceiver
from agent.web.section_events import events_section
from collectors.devices.config import DeviceConfig, SnmpConfig, TrapsConfig

SNMPTRAP = shutil.which("snmptrap")
pytestmark = pytest.mark.skipif(SNMPTRAP is None, reason="needs net-snmp's snmptrap (Debian: snmp)")

COMMUNITY, AUTH, PRIV = "ups-trap-c0mmunity", "auth-pass-phrase-1", "priv-pass-phrase-1"
ENGINE = "0x80001f8880aabbccdd11223344"
UPS_ON_BATTERY, LINK_DOWN, LINK_UP = "1.3.6.1.2.1.33.2.1", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"
COLD_START, ALARM_ADDED = "1.3.6.1.6.3.1.1.5.1", "1.3.6.1.2.1.33.2.3"


@dataclass
class Receiving:
    receiver: TrapReceiver
    state: State
    state_dir: Path
    port: int
    backups: list[str]
    env: dict[str, str]

    def events(self) -> DeviceEvents:
        return read(self.state)

    def wait_events(self, count: int) -> DeviceEvents:
        return wait_for(lambda: (e := self.events()) and len(e.events) >= count and e, 20, f"{count} events")

    def send(self, *args: str) -> None:
        """snmptrap (its own config and persistent files in a temporary directory)."""
        assert SNMPTRAP is not None
        subprocess.run(
            [SNMPTRAP, "-r", "0", *args], check=True, env=self.env, timeout=20, capture_output=True
        )

    def v2c(self, community: str, trap: str, *binds: str) -> None:
        self.send("-v", "2c", "-c", community, f"127.0.0.1:{self.port}", "", trap, *binds)

    def v3(self, priv: str, trap: str, *binds: str, level: str = "authPriv", auth: str = AUTH) -> None:
        security = ["-x", "AES", "-X", priv] if level == "authPriv" else []
        self.send("-v", "3", "-e", ENGINE, "-u", "hostward", "-l", level, "-a", "SHA-256", "-A", auth,
                  *security, f"127.0.0.1:{self.port}", "", trap, *binds)  # fmt: skip


@pytest.fixture(scope="module")
def receiving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiving]:
    tmp = tmp_path_factory.mktemp("traps")
    state_dir = tmp / "state"
    v2c = SnmpConfig(version="2c", community_file=secret(tmp / "c", COMMUNITY))
    keys = {"auth_key_file": secret(tmp / "a", AUTH), "priv_key_file": secret(tmp / "p", PRIV)}
    v3 = SnmpConfig(user="hostward", **keys)
    ups = DeviceConfig("ups-room1", "ups", "127.0.0.1:1161", site="机房", snmp=v2c)
    switch = DeviceConfig("core-sw", "switch", "127.0.0.1:1162", snmp=v3)
    port = free_udp_port()
    config = Config(devices=(ups, switch), devices_traps=TrapsConfig(listen=f"127.0.0.1:{port}", burst=50))
    state = State.open(state_dir)
    backups: list[str] = []

    def request_run(job: str) -> str:
        backups.append(job)
        return "started"

    receiver = TrapReceiver(config, state, state_dir, request_run, flush_seconds=0.3).start()
    (tmp / "snmp").mkdir()
    env = {
        **os.environ,
        "SNMP_PERSISTENT_DIR": str(tmp / "snmp"),
        "SNMPCONFPATH": str(tmp / "snmp"),
        "HOME": str(tmp),
    }
    yield Receiving(receiver, state, state_dir, port, backups, env)
    receiver.close()
    state.close()


def test_a_v2c_ups_on_battery_trap_marks_the_ups_on_battery_starts_the_backup_and_is_journaled(
    receiving: Receiving,
) -> None:
    before = len(receiving.events().events)
    receiving.v2c(COMMUNITY, UPS_ON_BATTERY, "1.3.6.1.2.1.33.1.2.3.0", "i", "12")
    event = receiving.wait_events(before + 1).events[-1]
    assert (event.device, event.kind) == ("ups-room1", "on_battery")
    assert event.text == "UPS ups-room1 on battery (12 min left); backup started"
    assert receiving.backups == ["backup"]
    stored = receiving.state.record(DevicesRecord)
    assert stored is not None
    ups = next(d for d in stored.record.devices if d.name == "ups-room1").ups
    assert ups is not None and ups.on_battery is True and ups.output_source == "battery"
    journaled = [e for e in Journal(receiving.state_dir).entries() if e.kind == "device.event"]
    assert journaled and journaled[-1].data["text"] == event.text
    # the same news again starts no second backup
    receiving.v2c(COMMUNITY, UPS_ON_BATTERY)
    again = receiving.wait_events(before + 2).events[-1]
    assert again.text.endswith("(already known)") and receiving.backups == ["backup"]


def test_a_v2c_battery_low_alarm_trap_sets_the_battery_status_low(receiving: Receiving) -> None:
    before = len(receiving.events().events)
    receiving.v2c(COMMUNITY, ALARM_ADDED, "1.3.6.1.2.1.33.1.6.2.1.2.1", "o", "1.3.6.1.2.1.33.1.6.3.3")
    assert receiving.wait_events(before + 1).events[-1].kind == "battery_low"
    stored = receiving.state.record(DevicesRecord)
    assert stored is not None
    ups = next(d for d in stored.record.devices if d.name == "ups-room1").ups
    assert ups is not None and ups.battery_status == "low" and "low_battery" in ups.alarms


def test_a_v3_authpriv_link_down_opens_an_outage_and_link_up_closes_it(receiving: Receiving) -> None:
    before = len(receiving.events().events)
    receiving.v3(PRIV, LINK_DOWN, "1.3.6.1.2.1.2.2.1.1.7", "i", "7", "1.3.6.1.2.1.31.1.1.1.1.7", "s", "Gi0/7")
    events = receiving.wait_events(before + 1)
    assert events.events[-1].text == "core-sw: link Gi0/7 down"
    assert "Gi0/7" in events.links_down["core-sw"]
    stored = receiving.state.record(DevicesRecord)
    assert stored is not None
    opened = {o.target: o.reason for o in stored.record.outages.open}
    assert opened["core-sw/Gi0/7"] == "link down (trap)"
    receiving.v3(PRIV, LINK_UP, "1.3.6.1.2.1.2.2.1.1.7", "i", "7", "1.3.6.1.2.1.31.1.1.1.1.7", "s", "Gi0/7")
    events = receiving.wait_events(before + 2)
    assert events.events[-1].kind == "link_up" and "core-sw" not in events.links_down
    stored = receiving.state.record(DevicesRecord)
    assert stored is not None and "core-sw/Gi0/7" not in {o.target for o in stored.record.outages.open}
    assert events.received.get("link_down", 0) >= 1 and events.received.get("link_up", 0) >= 1


def test_a_cold_start_trap_is_kept_as_a_restart(receiving: Receiving) -> None:
    before = len(receiving.events().events)
    receiving.v3(PRIV, COLD_START)
    events = receiving.wait_events(before + 1)
    assert events.events[-1].text.startswith("switch core-sw restarted (cold start)")
    assert events.restarts["core-sw"]["kind"] == "cold_start"


def dropped(receiving: Receiving, reason: str, at_least: int) -> DeviceEvents:
    return wait_for(
        lambda: (e := receiving.events()) and e.dropped.get(reason, 0) >= at_least and e,
        30,
        f"{reason} counted",
    )


def test_a_v3_trap_with_a_wrong_privacy_key_or_without_privacy_is_counted_and_dropped(
    receiving: Receiving,
) -> None:
    before = receiving.events()
    receiving.v3("wrong-priv-phrase", COLD_START)
    receiving.v3("", COLD_START, level="authNoPriv")
    dropped(receiving, "security_level", before.dropped.get("security_level", 0) + 1)
    after = dropped(receiving, "decryption_failed", before.dropped.get("decryption_failed", 0) + 1)
    assert after.dropped.get("decryption_failed", 0) >= before.dropped.get("decryption_failed", 0) + 1
    assert len(after.events) == len(before.events)


def test_a_v3_trap_with_a_wrong_auth_key_is_unauthenticated_and_dropped(receiving: Receiving) -> None:
    before = receiving.events()
    receiving.v3(PRIV, COLD_START, auth="wrong-auth-phrase")
    after = dropped(receiving, "unauthenticated", before.dropped.get("unauthenticated", 0) + 1)
    assert len(after.events) == len(before.events)


def test_a_v2c_trap_with_a_wrong_community_is_counted_and_dropped(receiving: Receiving) -> None:
    before = receiving.events()
    receiving.v2c("guess", COLD_START)
    after = dropped(receiving, "bad_community", before.dropped.get("bad_community", 0) + 1)
    assert len(after.events) == len(before.events)


@pytest.mark.parametrize(
    ("datagram", "reason"),
    [
        (b"\x00garbage that is not BER at all", "malformed"),
        (bytes.fromhex("302902010104"), "malformed"),  # truncated in the community
        (bytes.fromhex("3026020101040a75702d747261702d63") + b"\xa7\x15", "malformed"),
        (b"\x30\x0d\x02\x01\x00\x04\x06public\xa4\x00", "unsupported"),  # an SNMPv1 trap
    ],
)
def test_malformed_datagrams_are_counted_and_dropped(
    receiving: Receiving, datagram: bytes, reason: str
) -> None:
    before = receiving.events()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(datagram, ("127.0.0.1", receiving.port))
    after = dropped(receiving, reason, before.dropped.get(reason, 0) + 1)
    assert len(after.events) == len(before.events)


def test_trap_families_say_what_the_traps_did_and_pass_promtool(receiving: Receiving) -> None:
    before = len(receiving.events().events)
    receiving.v2c(COMMUNITY, COLD_START)
    receiving.v3(PRIV, LINK_DOWN, "1.3.6.1.2.1.2.2.1.1.9", "i", "9")
    receiving.wait_events(before + 2)
    receiving.v2c("guess", COLD_START)
    dropped(receiving, "bad_community", 1)
    body, _ = MetricsRenderer([trap_families]).render(receiving.state.snapshot())
    text = body.decode()
    assert 'hostward_device_trap_link_down{device="core-sw",interface="if9"} 1.0' in text
    assert 'hostward_device_last_restart_timestamp_seconds{device="ups-room1",kind="cold_start"}' in text
    assert 'hostward_traps_received_total{kind="cold_start"}' in text
    counted = [
        line
        for line in text.splitlines()
        if line.startswith('hostward_traps_dropped_total{reason="bad_community"}')
    ]
    assert counted and float(counted[0].split()[-1]) >= 1
    if shutil.which("promtool"):
        check = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr


def test_the_status_page_and_the_daily_report_say_what_happened_when(receiving: Receiving) -> None:
    before = len(receiving.events().events)
    receiving.v2c(COMMUNITY, UPS_ON_BATTERY, "1.3.6.1.2.1.33.1.2.3.0", "i", "12")
    receiving.wait_events(before + 1)
    receiving.v2c(COMMUNITY, ALARM_ADDED, "1.3.6.1.2.1.33.1.6.2.1.2.1", "o", "1.3.6.1.2.1.33.1.6.3.3")
    at = receiving.wait_events(before + 2).events[-1].at
    hhmm = time.strftime("%H:%M", time.localtime(at))
    en, zh = (events_section(receiving.state.snapshot(), lang) for lang in ("en", "zh"))
    assert f'<tr data-event="battery_low" class="crit"><td>{hhmm}</td><td>ups-room1</td>' in en
    assert "UPS ups-room1 battery low" in en and "UPS ups-room1 电池电量低" in zh
    assert en.index("battery low") < en.index("on battery"), "newest first"
    day = date.fromtimestamp(at)
    report = render_daily(Config(), receiving.state, day, "en", False)
    day_events = report[report.index('id="day-events"') :]
    assert "UPS ups-room1 on battery (12 min left)" in day_events
    assert day_events.index("on battery (12 min left)") < day_events.index("battery low"), "in time order"
    assert "UPS ups-room1 电池电量低" in render_daily(Config(), receiving.state, day, "zh", False)
    other_day = render_daily(Config(), receiving.state, day - timedelta(days=2), "en", False)
    assert 'id="day-events-none"' in other_day
