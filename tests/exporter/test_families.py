"""Metric families built from stored records: names, values, promtool, caching, isolation."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from exporter_helpers import FAKE_HOST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from testkit import put_json, put_raw

from agent.actions.collect import snapshot_host
from agent.config.schema import CollectConfig
from agent.exporter.families import BUILDERS
from agent.exporter.families_jobs import build_info
from agent.exporter.render import MetricsRenderer
from agent.state import Snapshot, State

PROMTOOL = shutil.which("promtool")


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def promtool_check(body: bytes) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL, "promtool (Debian prometheus) is required"
    return subprocess.run(
        [PROMTOOL, "check", "metrics"], input=body.decode(), capture_output=True, text=True, timeout=30
    )


def test_the_stored_host_record_becomes_metrics_in_base_units(state: State) -> None:
    body, content_type = MetricsRenderer().render(state.snapshot())
    assert content_type.startswith("text/plain; version=0.0.4")
    got = samples(body)
    assert got[("hostward_memory_total_bytes", ())] == 8_000_000_000
    assert got[("hostward_cpu_seconds_total", (("cpu", "1"), ("mode", "user")))] == 40.0
    assert got[("hostward_cpu_guest_seconds_total", (("cpu", "0"), ("mode", "user")))] == 3.0
    assert got[("hostward_context_switches_total", ())] == 1_000_000
    assert got[("hostward_host_collector_success", (("collector", "disks"),))] == 1
    assert got[("hostward_load15", ())] == 0.125
    fs = (("device", "/dev/sdb1"), ("fstype", "xfs"), ("mountpoint", "/srv/his-data"))
    assert got[("hostward_filesystem_avail_bytes", fs)] == 20_000_000_000
    assert got[("hostward_disk_io_time_seconds_total", (("device", "sda"),))] == 1.5
    assert got[("hostward_network_receive_drops_total", (("interface", "eth0"),))] == 2
    assert got[("hostward_temperature_celsius", (("label", "Package id 0"), ("sensor", "coretemp")))] == 48
    assert got[("hostward_fan_speed_rpm", (("label", "0"), ("sensor", "thinkpad")))] == 2100
    assert got[("hostward_swap_out_bytes_total", ())] == 8192
    assert got[("hostward_users_logged_in", ())] == 2
    assert got[("hostward_host_last_collect_timestamp_seconds", ())] == FAKE_HOST["taken"]
    assert not [k for k in got if "alice" in str(k)], "user names are never labels"


def test_job_families_report_each_jobs_last_run(state: State) -> None:
    got = samples(MetricsRenderer().render(state.snapshot())[0])
    assert got[("hostward_job_success", (("job", "collect"),))] == 1
    assert got[("hostward_job_success", (("job", "audit"),))] == 0
    assert got[("hostward_job_attempt", (("job", "audit"),))] == 2
    assert got[("hostward_job_duration_seconds", (("job", "audit"),))] == 1.25
    assert ("hostward_job_last_success_timestamp_seconds", (("job", "collect"),)) in got
    assert ("hostward_job_last_success_timestamp_seconds", (("job", "audit"),)) not in got
    assert got[("hostward_build_info", (("python", __import__("platform").python_version()),
                                        ("version", __import__("agent").__version__)))] == 1  # fmt: skip


@pytest.mark.skipif(PROMTOOL is None, reason="needs Debian prometheus (promtool)")
def test_families_from_a_real_host_record_pass_promtool(state: State) -> None:
    put_json(state, "host", snapshot_host(CollectConfig()).to_payload())
    body, _ = MetricsRenderer().render(state.snapshot())
    result = promtool_check(body)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(samples(body)) < 500, "an office PC stays in the hundreds of series"


@pytest.mark.skipif(PROMTOOL is None, reason="needs Debian prometheus (promtool)")
def test_promtool_does_reject_a_counter_without_total_so_the_check_above_can_fail() -> None:
    bad = b"# HELP hostward_disk_reads Reads.\n# TYPE hostward_disk_reads counter\nhostward_disk_reads 1\n"
    assert promtool_check(bad).returncode != 0


def test_every_family_is_prefixed_and_has_help(state: State) -> None:
    snapshot = state.snapshot()
    families = [family for builder in BUILDERS for family in builder(snapshot)]
    assert families
    for family in families:
        assert family.name.startswith("hostward_"), family.name
        assert family.documentation.strip(), family.name


def test_the_rendered_bytes_are_cached_until_the_state_changes(state: State) -> None:
    renderer = MetricsRenderer()
    first, _ = renderer.render(state.snapshot())
    assert renderer.render(state.snapshot())[0] is first
    state.record_run("collect", time.time(), 0.02, True)
    assert renderer.render(state.snapshot())[0] is not first


def test_openmetrics_is_served_when_asked_for(state: State) -> None:
    accept = "application/openmetrics-text; version=1.0.0"
    body, content_type = MetricsRenderer().render(state.snapshot(), accept)
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")


def test_a_broken_builder_does_not_take_the_scrape_down(state: State) -> None:
    def broken(snapshot: Snapshot) -> Iterator[Metric]:
        yield GaugeMetricFamily("hostward_half", "Never seen.", value=1)
        raise RuntimeError("bug")

    got = samples(MetricsRenderer(builders=(broken, build_info)).render(state.snapshot())[0])
    assert ("hostward_half", ()) not in got
    assert got[("hostward_exporter_builder_errors", ())] == 1
    assert ("hostward_build_info", (("python", __import__("platform").python_version()),
                                    ("version", __import__("agent").__version__))) in got  # fmt: skip


def test_a_damaged_host_record_is_reported_not_rendered_as_healthy(state: State) -> None:
    put_raw(state, "host", {"version": 1, "taken": 1.0})  # written by no version: it cannot be stored
    got = samples(MetricsRenderer().render(state.snapshot())[0])
    assert got[("hostward_host_record_valid", ())] == 0
    assert ("hostward_memory_total_bytes", ()) not in got
