"""One path per operation: `hostward devices poll` and `hostward inventory`, run as the real CLI
(a subprocess) against snmpsim, store the same record as the scheduled jobs, through the same
actions; a CLI poll that sees a UPS on battery says who starts the backup, and the next
scheduled power round does (BAK-6)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from devices_kit import Snmpsim

from agent.actions.base import JobContext
from agent.actions.devices import devices_job, devices_power_job
from agent.actions.inventory import record_inventory
from agent.config import load_config
from agent.journal import Journal
from agent.records.devices import DevicesRecord
from agent.records.inventory import InventoryRecord
from agent.state import State
from collectors.system.runner import SubprocessRunner

Device = tuple[str, str, str, int]  # name, kind, recording, index of the snmpsim port


def write_config(tmp_path: Path, name: str, snmpsim: Snmpsim, devices: list[Device]) -> Path:
    """A config file with its own state directory; devices: (name, kind, recording, port index)."""
    lines = [f"state_dir: {tmp_path / name}"] + (["devices:"] if devices else [])
    for device, kind, recording, port in devices:
        community = snmpsim.community_dir / recording
        lines.append(f"  - {{name: {device}, kind: {kind}, address: '127.0.0.1:{snmpsim.ports[port]}',")
        lines.append(f"     snmp: {{version: '2c', community_file: {community}, timeout: 2}}}}")
    path = tmp_path / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent", *argv, "-c", str(config)],
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip


def context(config: Path, calls: list[str] | None = None) -> JobContext:
    loaded = load_config(str(config))

    def request_run(job: str) -> str:
        assert calls is not None
        calls.append(job)
        return "started"

    hook = request_run if calls is not None else None
    return JobContext(loaded.config, State.open(loaded.state_dir), loaded.state_dir, time.monotonic() + 60,
                      threading.Event(), logging.getLogger("t"), hook)  # fmt: skip


def devices_record(state_dir: Path) -> DevicesRecord:
    state = State.open(state_dir)
    try:
        stored = state.record(DevicesRecord)
    finally:
        state.close()
    assert stored is not None
    return stored.record


def same(record: DevicesRecord) -> list[dict[str, Any]]:
    """The devices as stored, without how long each poll took."""
    return [{k: v for k, v in d.to_dict().items() if k != "duration_seconds"} for d in record.devices]


ROOM = [("ups-a", "ups", "ups-mains", 0), ("room", "sensor", "room-sensor", 1)]


def test_the_cli_poll_stores_the_record_the_scheduled_rounds_store(snmpsim: Snmpsim, tmp_path: Path) -> None:
    by_cli = write_config(tmp_path, "cli", snmpsim, ROOM)
    done = cli(by_cli, "devices", "poll", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)["devices"]
    from_cli = devices_record(tmp_path / "cli")

    by_job = write_config(tmp_path, "job", snmpsim, ROOM)
    ctx = context(by_job)
    assert devices_job(ctx).success and devices_power_job(ctx).success
    ctx.state.close()
    from_job = devices_record(tmp_path / "job")

    assert [d["name"] for d in printed] == ["ups-a", "room"]
    assert same(from_cli) == same(from_job) and len(same(from_cli)) == 2
    assert from_cli.outages.open == from_job.outages.open == ()
    assert from_cli.on_battery == from_job.on_battery == {"ups-a": False}
    assert from_cli.host_last_seen is not None and from_job.host_last_seen is not None
    assert set(from_cli.rounds) == {"cli"} and set(from_job.rounds) == {"devices", "devices_power"}

    assert cli(by_job, "devices", "poll").returncode == 0  # next to the job's record: its rounds stay
    after = devices_record(tmp_path / "job")
    assert set(after.rounds) == {"devices", "devices_power", "cli"}
    assert after.rounds["devices_power"] == from_job.rounds["devices_power"]
    assert same(after) == same(from_job)


def test_a_cli_poll_that_sees_a_ups_on_battery_says_so_and_the_next_power_round_starts_the_backup(
    snmpsim: Snmpsim, tmp_path: Path
) -> None:
    config = write_config(tmp_path, "state", snmpsim, [("ups-b", "ups", "ups-battery", 0)])
    done = cli(config, "devices", "poll")
    assert done.returncode == 0, done.stderr
    assert "UPS ups-b has left mains power" in done.stderr and "next power round" in done.stderr
    assert "已转电池供电" in done.stderr
    record = devices_record(tmp_path / "state")
    [ups] = record.devices
    assert ups.ups is not None and ups.ups.on_battery
    assert record.on_battery == {}  # the transition is left to the scheduled round

    calls: list[str] = []
    ctx = context(config, calls)
    assert devices_power_job(ctx).success
    assert calls == ["backup"]
    assert devices_power_job(ctx).success and calls == ["backup"]  # once per transition
    ctx.state.close()
    events = [e.data for e in Journal(tmp_path / "state").entries() if e.kind == "device.event"]
    assert any("backup started" in str(e) for e in events)


def test_the_cli_inventory_stores_and_journals_like_the_job_and_keeps_the_devices_it_did_not_read(
    snmpsim: Snmpsim, tmp_path: Path
) -> None:
    config = write_config(tmp_path, "state", snmpsim, [("core-switch", "switch", "cisco-3750-stack", 0)])
    ctx = context(config)
    assert record_inventory(ctx, "/", SubprocessRunner()).success
    stored = ctx.state.record(InventoryRecord)
    ctx.state.close()
    assert stored is not None and stored.record.sections["devices"].status == "ok"
    from_job = stored.record

    done = cli(config, "inventory", "--json")  # without --devices: no SNMP read this time
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert "devices" not in printed["sections"]
    state = State.open(tmp_path / "state")
    stored = state.record(InventoryRecord)
    state.close()
    assert stored is not None
    from_cli = stored.record
    assert from_cli.taken == printed["taken"] > from_job.taken  # the CLI's reading is the one stored
    assert from_cli.sections["devices"] == from_job.sections["devices"]
    statuses = {n: s.status for n, s in from_job.sections.items()}
    assert {n: s.status for n, s in from_cli.sections.items()} == statuses
    assert from_cli.identity() == from_job.identity()
    kinds = [e.kind for e in Journal(tmp_path / "state").entries() if e.kind.startswith("inventory.")]
    assert kinds[0] == "inventory.registered" and kinds.count("inventory.registered") == 1
    changed = [e for e in Journal(tmp_path / "state").entries() if e.kind == "inventory.changed"]
    assert sum(from_cli.changes_total.values()) == sum(len(e.data["changes"]) for e in changed)

    fresh = write_config(tmp_path, "fresh", snmpsim, [])
    assert cli(fresh, "inventory").returncode == 0
    assert [e.kind for e in Journal(tmp_path / "fresh").entries()] == ["inventory.registered"]
