"""Rounds of devices that never answer: the round is sized to fit its job timeout (or the config
is refused), and the power round (UPS, room sensors) goes on, BAK-6 included, while the network
round times out and is set aside by the watchdog.

Silent devices are real UDP sockets on 127.0.0.x that receive and never answer (no ICMP either);
the UPS is snmpsim serving a recorded UPS."""

from __future__ import annotations

import socket
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from devices_kit import Snmpsim, secret
from testkit import AgentProcess, free_port

from agent.actions.base import JobContext, JobOutcome
from agent.actions.devices import devices_job, devices_power_job
from agent.config import SchemaError, load_config
from agent.config.schema import Config
from agent.jobs import JOBS, scheduled
from agent.scheduler import ScheduledJob, Scheduler
from agent.state import State
from agent.watchdog import SetAside, load, save
from collectors.devices.config import DeviceConfig, DevicesSchedule, SnmpConfig
from collectors.devices.rounds import DEFAULT_CONCURRENCY, MARGIN, MAX_CONCURRENCY, plan_round
from common.schema import Duration
from common.schema.common import Schedule

SILENT_ADDRESSES = 100  # sockets: 127.0.0.2 .. 127.0.0.101, one port each


@pytest.fixture(scope="module")
def silent() -> Iterator[list[str]]:
    """`SILENT_ADDRESSES` "host:port" on loopback that swallow every datagram."""
    socks: list[socket.socket] = []
    try:
        for i in range(SILENT_ADDRESSES):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((f"127.0.0.{2 + i}", 0))
            socks.append(s)
        yield [f"{s.getsockname()[0]}:{s.getsockname()[1]}" for s in socks]
    finally:
        for s in socks:
            s.close()


def job_runs(state_dir: Path, job: str) -> list[tuple[int, str]]:
    """(success, error) of the stored runs of `job`, read with a connection of our own."""
    if not (state_dir / "state.db").exists():
        return []
    db = sqlite3.connect(state_dir / "state.db", timeout=10)
    try:
        return db.execute("SELECT success, error FROM job_runs WHERE job = ? ORDER BY id", (job,)).fetchall()
    finally:
        db.close()


def silent_fleet(addresses: list[str], count: int, budget: float, community: str) -> tuple[DeviceConfig, ...]:
    snmp = SnmpConfig(version="2c", community_file=community, timeout=Duration(budget), retries=1)
    return tuple(
        DeviceConfig(f"sw{i}", "switch", addresses[i % len(addresses)], snmp=snmp) for i in range(count)
    )


def fleet_yaml(count: int, budget: str, job_timeout: str, community: Path) -> str:
    lines = [f"devices_schedule: {{poll: {{every: 60s, timeout: {job_timeout}}}}}", "devices:"]
    lines += [
        f"  - {{name: sw{i}, kind: switch, address: '10.1.{i // 250}.{i % 250 + 1}',"
        f" snmp: {{version: '2c', community_file: '{community}', timeout: {budget}}}}}"
        for i in range(count)
    ]
    return "\n".join(lines) + "\n"


def test_two_thousand_silent_devices_get_enough_slots_to_fit_a_30s_job() -> None:
    devices = silent_fleet(["127.0.0.1:9"], 2000, 1.0, "/nonexistent")
    plan = plan_round(devices, 30.0)
    assert plan.problem == ""
    assert DEFAULT_CONCURRENCY < plan.concurrency <= MAX_CONCURRENCY
    assert plan.worst_seconds <= 30.0 * MARGIN
    # the former fixed 64 slots: 32 waves of 1 s, past the job timeout
    assert -(-2000 // DEFAULT_CONCURRENCY) * 1.0 > 30.0


def test_a_small_round_keeps_the_default_slots() -> None:
    plan = plan_round(silent_fleet(["127.0.0.1:9"], 200, 5.0, "/nonexistent"), 30.0)
    assert plan.concurrency == DEFAULT_CONCURRENCY and plan.problem == ""


def test_a_round_that_cannot_fit_is_refused_with_the_timeout_that_would(tmp_path: Path) -> None:
    community = Path(secret(tmp_path / "community", "public"))
    path = tmp_path / "hostward.yaml"
    path.write_text(fleet_yaml(600, "20s", "30s", community))
    with pytest.raises(SchemaError) as caught:
        load_config(str(path))
    message = str(caught.value)
    assert "devices_schedule.poll.timeout" in message
    assert "600 devices that do not answer" in message and "set the timeout to at least 63s" in message
    path.write_text(fleet_yaml(600, "20s", "63s", community))
    assert len(load_config(str(path)).config.devices) == 600


def test_one_device_budget_longer_than_its_job_is_refused(tmp_path: Path) -> None:
    community = Path(secret(tmp_path / "community", "public"))
    path = tmp_path / "hostward.yaml"
    path.write_text(fleet_yaml(1, "30s", "30s", community))
    with pytest.raises(SchemaError, match=r"budget of 30s .* at least 44s"):
        load_config(str(path))


def test_ups_and_sensors_get_a_job_of_their_own_only_when_configured(snmpsim: Snmpsim) -> None:
    snmp = SnmpConfig(version="2c", community_file=str(snmpsim.community_dir / "ups-mains"))
    ups = DeviceConfig("ups", "ups", f"127.0.0.1:{snmpsim.ports[0]}", snmp=snmp)
    switch = DeviceConfig("sw", "switch", "127.0.0.1:9", snmp=snmp)
    assert {j.name for j in scheduled(JOBS, Config(devices=(switch, ups)))} >= {"devices", "devices_power"}
    assert "devices_power" not in {j.name for j in scheduled(JOBS, Config(devices=(switch,)))}
    off = DevicesSchedule(power=Schedule(every=Duration(30), enabled=False))
    names = {j.name for j in scheduled(JOBS, Config(devices=(switch, ups), devices_schedule=off))}
    assert "devices_power" not in names and "devices" in names


def test_eight_hundred_silent_devices_fit_a_3s_job_and_are_not_set_aside(
    silent: list[str], tmp_path: Path
) -> None:
    community = secret(tmp_path / "community", "public")
    devices = silent_fleet(silent, 800, 0.3, community)
    plan = plan_round(devices, 3.0)
    assert plan.problem == "" and plan.concurrency > DEFAULT_CONCURRENCY
    assert -(-800 // DEFAULT_CONCURRENCY) * 0.3 > 3.0  # 64 slots: 13 waves, past the timeout
    config = Config(devices=devices)
    state = State.open(tmp_path / "state")
    job = ScheduledJob("devices", Schedule(every=Duration(60), timeout=Duration(3)), devices_job)
    scheduler = Scheduler([job], config=config, state=state, state_dir=tmp_path / "state")
    [result] = scheduler.run_due_once()
    assert not result.success
    assert result.error.startswith("800 of 800 devices down") and "timed out" not in result.error
    assert "devices" not in load(state, "job")
    record = state.snapshot().records.get("devices")
    assert record is not None and len(record.payload["devices"]) == 800
    assert all("no answer within 0.3s" in d["reason"] for d in record.payload["devices"])
    state.close()


def test_the_power_round_goes_on_and_starts_a_backup_while_the_network_round_is_set_aside(
    silent: list[str], snmpsim: Snmpsim, tmp_path: Path
) -> None:
    """The network round times out (its devices' 2 s budget in a 1 s job: a config the loader
    refuses, here built directly, standing for any stall) and is set aside; the UPS on its
    own round is polled every time, and when it goes on battery the backup starts (BAK-6)."""
    community = secret(tmp_path / "community", "public")
    ups_community = Path(secret(tmp_path / "ups-community", "ups-mains"))
    ups_snmp = SnmpConfig(version="2c", community_file=str(ups_community), timeout=Duration(2))
    ups = DeviceConfig("ups-1", "ups", f"127.0.0.1:{snmpsim.ports[0]}", snmp=ups_snmp)
    config = Config(devices=(*silent_fleet(silent, 40, 2.0, community), ups))
    state = State.open(tmp_path / "state")
    backups: list[str] = []

    def backup(ctx: JobContext) -> JobOutcome:
        backups.append("run")
        return JobOutcome(True)

    state.record_run("backup", time.time() - 60, 30.0, True)
    nightly = Schedule(at=time.strftime("%H:%M", time.localtime(time.time() - 3600)), timeout=Duration(600))
    scheduler = Scheduler(
        [ScheduledJob("devices", Schedule(every=Duration(60), timeout=Duration(1)), devices_job),
         ScheduledJob("devices_power", Schedule(every=Duration(30), timeout=Duration(10)), devices_power_job),
         ScheduledJob("backup", nightly, backup)],
        config=config, state=state, state_dir=tmp_path / "state",
    )  # fmt: skip
    try:
        first = {r.job: r for r in scheduler.run_due_once()}
        assert first["devices"].error == "timed out after 1s"
        assert first["devices_power"].success, first["devices_power"].error
        assert "devices" in load(state, "job") and "devices_power" not in load(state, "job")
        assert backups == []  # on mains

        secret(tmp_path / "ups-community", "ups-battery")  # the mains fail
        second = {r.job: r for r in scheduler.run_due_once()}
        assert "devices" not in second  # set aside by the watchdog
        assert second["devices_power"].success and backups == ["run"]
        record = state.snapshot().records.get("devices")
        assert record is not None
        [stored] = [d for d in record.payload["devices"] if d["name"] == "ups-1"]
        assert stored["ups"]["on_battery"] is True
        assert set(record.payload["rounds"]) >= {"devices_power"}
    finally:
        assert scheduler.wait_idle(30.0)  # the abandoned network round ends within its budgets
        state.close()


def test_the_running_agent_polls_the_ups_on_its_own_job_while_the_network_round_is_set_aside(
    silent: list[str], snmpsim: Snmpsim, tmp_path: Path
) -> None:
    """`hostward run` on a state where the network round was set aside for 6 h (as the former
    single round was after timing out): `devices_power` runs anyway, sees the UPS on battery
    and calls BAK-6 (no backup is configured here, which it says); `devices` never runs."""
    community = secret(tmp_path / "community", "public")
    ups_community = secret(tmp_path / "ups-community", "ups-battery")
    state_dir = tmp_path / "state"
    state = State.open(state_dir)
    save(state, "job", {"devices": SetAside(time.time() + 6 * 3600, 7, "timed out after 30s")})
    state.close()
    switches = "".join(
        f"  - {{name: sw{i}, kind: switch, address: '{address}',"
        f" snmp: {{version: '2c', community_file: '{community}', timeout: 0.5s}}}}\n"
        for i, address in enumerate(silent[:20])
    )
    config = tmp_path / "hostward.yaml"
    config.write_text(
        f"version: 1\nstate_dir: {state_dir}\n"
        f'exporter: {{listen: "127.0.0.1:{free_port()}"}}\n'
        "collect: {schedule: {every: 1h}}\naudit: {schedule: {every: 1h}}\n"
        "devices_schedule: {poll: {every: 1s, timeout: 5s}, power: {every: 1s, timeout: 5s}}\n"
        f"devices:\n{switches}"
        f"  - {{name: ups-1, kind: ups, address: '127.0.0.1:{snmpsim.ports[0]}',"
        f" snmp: {{version: '2c', community_file: '{ups_community}', timeout: 2s}}}}\n"
    )
    agent = AgentProcess(tmp_path, config)
    try:
        agent.wait_for(lambda: len(job_runs(state_dir, "devices_power")) >= 3, what="three power rounds")
        assert all(success for success, _ in job_runs(state_dir, "devices_power"))
        assert job_runs(state_dir, "devices") == []
        assert "UPS ups-1 is on battery, but no backup is configured on this host (BAK-6)" in agent.stderr
        assert "job devices is set aside by the watchdog" in agent.stderr
        metrics = urllib.request.urlopen(agent.url() + "/metrics", timeout=10).read().decode()
        assert 'hostward_devices_round_last_poll_timestamp_seconds{round="devices_power"}' in metrics
        assert 'hostward_ups_on_battery{device="ups-1"' in metrics
    finally:
        agent.stop()
