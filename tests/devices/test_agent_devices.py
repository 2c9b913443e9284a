"""Agent side against real agents: the devices job's record and outages, the UPS on-battery
hook (BAK-6), /metrics families (promtool-clean), the status section and the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from devices_kit import Snmpd, Snmpsim

from agent.actions.base import JobContext, JobOutcome
from agent.actions.devices import devices_job, devices_power_job, poll_and_record
from agent.config.schema import Config
from agent.exporter.families_devices import device_families
from agent.exporter.render import MetricsRenderer
from agent.scheduler import ScheduledJob, Scheduler
from agent.state import State
from agent.web.section_devices import devices_section
from collectors.devices.config import DeviceConfig, SnmpConfig
from collectors.devices.records import DeviceResult
from common.schema import Duration
from common.schema.common import Schedule


def fleet(snmpsim: Snmpsim, snmpd: Snmpd, dead_port: int) -> Config:
    def dev(name: str, kind: str, port: int, community_file: str) -> DeviceConfig:
        snmp = SnmpConfig(version="2c", community_file=community_file, timeout=1)
        return DeviceConfig(name, kind, f"127.0.0.1:{port}", site="机房<1>", snmp=snmp)  # type: ignore[arg-type]

    return Config(
        devices=(
            dev("ups-b", "ups", snmpsim.ports[0], str(snmpsim.community_dir / "ups-battery")),
            dev("room", "sensor", snmpsim.ports[1], str(snmpsim.community_dir / "room-sensor")),
            dev("router", "router", snmpd.port, snmpd.community_file),
            dev("dead<sw>", "switch", dead_port, snmpd.community_file),
        )
    )


def test_poll_records_outages_calls_on_battery_once_and_renders(
    snmpsim: Snmpsim, snmpd: Snmpd, blackhole: int, tmp_path: Path
) -> None:
    config = fleet(snmpsim, snmpd, blackhole)
    state = State.open(tmp_path / "state")
    calls: list[str] = []

    def on_battery(result: DeviceResult) -> None:
        calls.append(result.name)

    first = poll_and_record(config, state, now=1_000_000.0, on_battery=on_battery, boot_time=0.0)
    assert [r.name for r in first.failed] == ["dead<sw>"]
    assert calls == ["ups-b"] and first.went_on_battery == ("ups-b",)
    poll_and_record(config, state, now=1_000_000.0 + 3 * 3600, on_battery=on_battery, boot_time=0.0)
    assert calls == ["ups-b"]  # still on battery: no second trigger

    record = state.snapshot().records.get("devices")
    assert record is not None
    assert record.payload["outages"]["open"]["dead<sw>"]["start"] == 1_000_000.0
    body, _ = MetricsRenderer([device_families]).render(state.snapshot())
    text = body.decode()
    assert 'hostward_device_up{device="router"} 1.0' in text
    assert 'hostward_device_up{device="dead<sw>"} 0.0' in text
    assert 'hostward_ups_on_battery{device="ups-b",kind="ups",site="机房<1>"} 1.0' in text
    assert 'hostward_outage_over_threshold{target="dead<sw>",threshold="2h"} 1.0' in text
    temperature = 'device="room",kind="sensor",sensor="Room temperature",site="机房<1>"} 23.5'
    assert f"hostward_device_temperature_celsius{{{temperature}" in text
    if shutil.which("promtool"):
        check = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, check=False)
        assert check.returncode == 0, check.stderr.decode() + check.stdout.decode()

    zh = devices_section(state.snapshot(), "zh")
    en = devices_section(state.snapshot(), "en")
    assert "电池供电" in zh and "on battery" in en and "机房设备" in zh and "Machine room" in en
    assert "dead&lt;sw&gt;" in en and "dead<sw>" not in en
    assert "still down" in en and "仍在停机" in zh
    state.close()


def test_no_devices_polls_nothing_and_never_imports_pysnmp(tmp_path: Path) -> None:
    code = (
        "import sys; from agent.actions.devices import poll_and_record;"
        "from agent.config.schema import Config;"
        "r = poll_and_record(Config(), None); assert r.results == ();"
        "bad = [m for m in ('pysnmp', 'netmiko', 'paramiko') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("with_dead", [False, True])
def test_cli_devices_poll_json_exit_code(
    snmpsim: Snmpsim, blackhole: int, tmp_path: Path, with_dead: bool
) -> None:
    community = snmpsim.community_dir / "ups-mains"
    text = (
        f"state_dir: {tmp_path / 'state'}\n"
        "devices:\n"
        f"  - {{name: ups-a, kind: ups, address: '127.0.0.1:{snmpsim.ports[0]}',\n"
        f"     snmp: {{version: '2c', community_file: {community}, timeout: 1}}}}\n"
    )
    if with_dead:
        text += (
            f"  - {{name: gone, kind: switch, address: '127.0.0.1:{blackhole}',\n"
            f"     snmp: {{version: '2c', community_file: {community}, timeout: 1}}}}\n"
        )
    path = tmp_path / "hostward.yaml"
    path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "agent", "devices", "poll", "--json", "-c", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == (1 if with_dead else 0), done.stderr
    devices = json.loads(done.stdout)["devices"]
    assert list(devices[0])[:3] == ["name", "up", "reason"]
    assert devices[0]["up"] is True and devices[0]["ups"]["charge_ratio"] == 0.95
    if with_dead:
        assert devices[1]["up"] is False and "no answer within 1s" in devices[1]["reason"]


def test_a_ups_going_on_battery_starts_the_backup_job_now(snmpsim: Snmpsim, tmp_path: Path) -> None:
    """BAK-6 through the real scheduler: the power round (devices_power) sees a UPS on battery
    (snmpsim) and the backup job, whose nightly time is hours away, starts at once; only once
    per transition. The network round (devices) leaves the UPS to it."""
    snmp = SnmpConfig(version="2c", community_file=str(snmpsim.community_dir / "ups-battery"), timeout=1)
    ups = DeviceConfig("ups-b", "ups", f"127.0.0.1:{snmpsim.ports[0]}", snmp=snmp)  # type: ignore[arg-type]
    config = Config(devices=(ups,))
    state = State.open(tmp_path / "state")
    backups: list[float] = []

    def backup(ctx: JobContext) -> JobOutcome:
        backups.append(ctx.remaining())
        return JobOutcome(True)

    state.record_run("backup", time.time() - 60, 30.0, True)  # tonight's run is the next one
    nightly = Schedule(at=time.strftime("%H:%M", time.localtime(time.time() - 3600)), timeout=Duration(600))
    scheduler = Scheduler(
        [ScheduledJob("devices", Schedule(every=Duration(60)), devices_job),
         ScheduledJob("devices_power", Schedule(every=Duration(30)), devices_power_job),
         ScheduledJob("backup", nightly, backup)],
        config=config, state=state, state_dir=tmp_path / "state",
    )  # fmt: skip
    results = {r.job: r.success for r in scheduler.run_due_once()}
    assert results == {"devices": True, "devices_power": True, "backup": True}
    assert len(backups) == 1
    again = {r.job for r in scheduler.run_due_once()}
    assert again == {"devices", "devices_power"} and len(backups) == 1  # still on battery: no second backup
    state.close()
