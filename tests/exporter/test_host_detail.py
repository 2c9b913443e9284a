"""Host detail as node_exporter gives it (per CPU, per disk, per interface, kernel counters) and
the per-part health of the host collector, read from this very machine (real psutil, real /proc)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.exporter.render import MetricsRenderer
from agent.records.host import HostRecord
from agent.state import State
from collectors.host import HostSnapshot, collect_host

PROMTOOL = shutil.which("promtool")
LINUX = sys.platform.startswith("linux")
Series = dict[str, list[dict[str, str]]]


def render(tmp_path: Path, host: HostSnapshot) -> str:
    state = State.open(tmp_path / "state")
    state.put_record(HostRecord(host), taken=host.taken)
    return MetricsRenderer().render(state.snapshot())[0].decode()


def series(body: str) -> Series:
    out: Series = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out.setdefault(s.name, []).append(dict(s.labels))
    return out


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[HostSnapshot, str]:
    host = collect_host(False)
    return host, render(tmp_path_factory.mktemp("real"), host)


def test_cpu_time_is_exported_per_cpu_and_per_mode(real: tuple[HostSnapshot, str]) -> None:
    got = series(real[1])["hostward_cpu_seconds_total"]
    assert {s["cpu"] for s in got} == {str(n) for n in range(psutil.cpu_count())}
    for n in range(psutil.cpu_count()):
        modes = {s["mode"] for s in got if s["cpu"] == str(n)}
        assert {"user", "system", "idle"} <= modes and "guest" not in modes


def test_every_whole_disk_has_node_exporters_detail_and_no_loop_ram_or_partition_does(
    real: tuple[HostSnapshot, str],
) -> None:
    host, body = real
    got = series(body)
    disks = {d.device for d in host.disks}
    assert not [d for d in disks if d.startswith(("loop", "ram", "zram", "dm-"))]
    if LINUX:  # whole disks are the names in /sys/block
        virtual = ("loop", "ram", "zram", "dm-", "nbd", "fd")
        assert disks == {n.name for n in Path("/sys/block").iterdir() if not n.name.startswith(virtual)}
    if not disks:
        pytest.skip("this machine has no physical disk to read")
    names = ["reads_completed", "writes_completed", "read_bytes", "written_bytes", "read_time_seconds",
             "write_time_seconds", "io_time_seconds"]  # fmt: skip
    if LINUX:
        names += ["reads_merged", "writes_merged", "io_time_weighted_seconds"]
    for name in names:
        assert {s["device"] for s in got[f"hostward_disk_{name}_total"]} == disks, name
    if LINUX:
        assert {s["device"] for s in got["hostward_disk_io_now"]} == disks


def test_every_interface_but_loopback_has_counters_per_direction_and_its_mtu(
    real: tuple[HostSnapshot, str],
) -> None:
    got = series(real[1])
    interfaces = set(psutil.net_io_counters(pernic=True)) - {"lo"}
    for direction in ("receive", "transmit"):
        for what in ("bytes", "packets", "errors", "drops"):
            assert {s["interface"] for s in got[f"hostward_network_{direction}_{what}_total"]} == interfaces
    stats = psutil.net_if_stats()
    assert {s["interface"] for s in got["hostward_network_mtu_bytes"]} == {
        name for name in interfaces if stats[name].mtu > 0
    }
    if LINUX:
        assert {s["interface"] for s in got["hostward_network_receive_multicast_total"]} == interfaces


def test_kernel_counters_and_meminfo_match_proc(real: tuple[HostSnapshot, str]) -> None:
    if not LINUX:
        pytest.skip("/proc is Linux")
    host, body = real
    got = series(body)
    for name in ("context_switches_total", "interrupts_total", "forks_total", "procs_running",
                 "vmstat_pgfault_total"):  # fmt: skip
        assert f"hostward_{name}" in got, name
    fields = {s["field"] for s in got["hostward_memory_meminfo_bytes"]}
    proc = Path("/proc/meminfo").read_text()
    assert fields == {line.split(":")[0] for line in proc.splitlines() if line.endswith(" kB")}
    total = next(int(line.split()[1]) for line in proc.splitlines() if line.startswith("MemTotal:"))
    assert host.meminfo["MemTotal"] == total * 1024


def test_every_part_of_the_host_collector_reports_success_and_duration(
    real: tuple[HostSnapshot, str],
) -> None:
    host, body = real
    got = series(body)
    parts = {s["collector"] for s in got["hostward_host_collector_success"]}
    assert {"cpu", "cpus", "memory", "filesystems", "disks", "networks", "stat"} <= parts
    assert parts == {s["collector"] for s in got["hostward_host_collector_duration_seconds"]}
    values = {
        s.labels["collector"]: s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "hostward_host_collector_success"
    }
    assert all(v == 1 for v in values.values()), values
    assert host.errors == {}


def test_a_failing_part_is_success_0_and_every_other_part_still_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/proc/diskstats")

    monkeypatch.setattr(psutil, "disk_io_counters", broken)
    host = collect_host(False)
    body = render(tmp_path, host)
    success = {
        s.labels["collector"]: s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "hostward_host_collector_success"
    }
    assert success["disks"] == 0
    assert {part for part, value in success.items() if value == 0} == {"disks"}
    got = series(body)
    assert not [name for name in got if name.startswith("hostward_disk_") and "smart" not in name]
    assert "hostward_cpu_seconds_total" in got and "hostward_network_receive_bytes_total" in got
    assert "hostward_filesystem_size_bytes" in got and "hostward_memory_total_bytes" in got
    if PROMTOOL:
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, text=True,
                               timeout=30, check=False)  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.skipif(PROMTOOL is None, reason="needs Debian prometheus (promtool)")
def test_the_real_exposition_follows_prometheus_conventions(real: tuple[HostSnapshot, str]) -> None:
    assert PROMTOOL
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=real[1], capture_output=True, text=True,
                           timeout=30, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    for family in text_string_to_metric_families(real[1]):
        assert family.documentation, family.name


def test_a_record_from_the_previous_version_still_loads_and_exports_what_it_has(tmp_path: Path) -> None:
    payload = collect_host(False).to_payload()
    for key in ("cpus", "cpu_stats", "meminfo", "vmstat", "durations"):
        del payload[key]
    for disk in payload["disks"]:
        for key in list(disk)[6:]:
            del disk[key]
    old = HostSnapshot.from_payload(payload)
    assert old.cpus == () and old.durations == {}
    got = series(render(tmp_path, old))
    assert "hostward_memory_total_bytes" in got
    assert "hostward_host_collector_success" not in got and "hostward_cpu_seconds_total" not in got
