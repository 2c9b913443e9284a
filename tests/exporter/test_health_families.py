"""Families of the host_health record (SMART, failed units, clock sync) and of link state/inodes."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest
from exporter_helpers import FAKE_HOST
from test_families import PROMTOOL, promtool_check, samples
from testkit import put_json

from agent.actions.base import JobContext
from agent.actions.collect import snapshot_host
from agent.config.schema import CollectConfig
from agent.exporter.render import MetricsRenderer
from agent.state import State
from collectors.host_health import HostHealth
from collectors.smart import parse_smartctl

SMART = Path(__file__).parents[1] / "system" / "fixtures" / "smartctl"


def _health() -> HostHealth:
    disks = tuple(
        parse_smartctl(json.loads((SMART / name).read_text(encoding="utf-8")))
        for name in ("ata-ST3500418AS-reallocated.json", "nvme-SAMSUNG_MZWLL3T2HAJQ-failing.json")
    )
    return HostHealth(
        taken=1_700_000_000.0, disks=disks, failed_units=("backup-mount.service",), time_synchronized=False,
        errors={"smart:/dev/sdb": "ValueError: could not read"}, unavailable={"x_part": "not here"},
    )  # fmt: skip


def test_disk_health_failed_units_and_clock_sync_become_metrics(state: State) -> None:
    put_json(state, "host_health", _health().to_payload())
    got = samples(MetricsRenderer().render(state.snapshot())[0])
    sda, nvme = (("device", "/dev/sda"), ("model", "ST3500418AS")), (("device", "/dev/nvme0"),)
    assert got[("hostward_disk_smart_healthy", sda)] == 1
    assert got[("hostward_disk_smart_healthy", (*nvme, ("model", "SAMSUNG MZWLL3T2HAJQ-00005")))] == 0
    assert got[("hostward_disk_smart_errors", (("counter", "reallocated_sectors"), sda[0]))] == 304
    assert got[("hostward_systemd_unit_failed", (("unit", "backup-mount.service"),))] == 1
    assert got[("hostward_systemd_units_failed", ())] == 1
    assert got[("hostward_time_synchronized", ())] == 0
    assert got[("hostward_host_health_errors", ())] == 1
    assert got[("hostward_host_part_unavailable", (("part", "x_part"),))] == 1


def test_unknown_parts_export_nothing_rather_than_healthy(state: State) -> None:
    unknown = HostHealth(taken=1.0, unavailable={"smart": "no smartctl", "systemd_units": "no systemd"})
    put_json(state, "host_health", unknown.to_payload())
    names = {name for name, _ in samples(MetricsRenderer().render(state.snapshot())[0])}
    known = {"hostward_disk_smart_healthy", "hostward_systemd_units_failed", "hostward_time_synchronized"}
    assert not names & known
    got = samples(MetricsRenderer().render(state.snapshot())[0])
    assert got[("hostward_host_part_unavailable", (("part", "smart"),))] == 1


def test_stopped_windows_services_become_metrics(state: State) -> None:
    stopped = HostHealth(taken=1.0, stopped_services=("MSSQLSERVER", "Spooler"))
    put_json(state, "host_health", stopped.to_payload())
    got = samples(MetricsRenderer().render(state.snapshot())[0])
    assert got[("hostward_windows_service_stopped", (("service", "Spooler"),))] == 1
    assert got[("hostward_windows_services_stopped", ())] == 2


def test_link_state_is_exported_and_windows_exports_no_inodes(state: State) -> None:
    host = json.loads(json.dumps(FAKE_HOST))
    host["networks"][0]["up"] = False
    put_json(state, "host", host)
    got = samples(MetricsRenderer().render(state.snapshot())[0])
    assert got[("hostward_network_up", (("interface", host["networks"][0]["interface"]),))] == 0
    assert any(name == "hostward_filesystem_files_free" for name, _ in got)
    host["unavailable"] = {"inodes": "Windows filesystems have no inode counts"}
    put_json(state, "host", host)
    names = {name for name, _ in samples(MetricsRenderer().render(state.snapshot())[0])}
    assert "hostward_filesystem_files_free" not in names and "hostward_filesystem_avail_bytes" in names


@pytest.mark.skipif(PROMTOOL is None, reason="needs Debian prometheus (promtool)")
def test_a_real_host_with_its_health_record_passes_promtool_and_stays_in_the_hundreds(state: State) -> None:
    put_json(state, "host", snapshot_host(CollectConfig()).to_payload())
    # An office PC with two disks and a failed unit: the recorded disks stand in for this VM's.
    office = HostHealth(time.time(), _health().disks, ("a.service",), True)
    put_json(state, "host_health", office.to_payload())
    body, _ = MetricsRenderer().render(state.snapshot())
    result = promtool_check(body)
    assert result.returncode == 0, result.stdout + result.stderr
    count = len(samples(body))
    assert count < 500, f"{count} series: an office PC stays in the hundreds"


def test_the_host_health_job_stores_its_record_and_a_part_it_cannot_read_makes_it_partial(
    tmp_path: Path,
) -> None:
    from agent.actions.host_health import host_health_job
    from agent.config.schema import Config

    state = State.open(tmp_path / "state")
    ctx = JobContext(
        Config(), state, tmp_path, time.monotonic() + 60, threading.Event(), logging.getLogger("t")
    )
    outcome = host_health_job(ctx)
    record = state.snapshot().records.get("host_health")
    assert record is not None
    health = HostHealth.from_payload(record.payload)
    assert record.taken == health.taken
    assert outcome.success and outcome.partial == bool(health.errors)
    assert "smart" in health.unavailable or health.disks or health.errors  # never silently nothing
    state.close()
