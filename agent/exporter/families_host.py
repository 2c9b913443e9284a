"""Host-health families from the stored "host" record (see collectors.host)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.exporter.families_health import health_unavailable, link_families
from agent.exporter.families_host_detail import detail_families
from agent.exporter.families_host_io import io_families
from agent.records.base import StateError
from agent.records.host import HostRecord
from agent.state import Snapshot
from collectors.host import HostSnapshot

log = logging.getLogger(__name__)
HOST_KIND = HostRecord.KIND
_FS = ("mountpoint", "device", "fstype")
_SENSOR = ("sensor", "label")


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def host_families(snapshot: Snapshot) -> Iterator[Metric]:
    try:
        stored = snapshot.get(HostRecord)
    except StateError as exc:  # a damaged record: say so, no data
        log.warning("host record unreadable: %s", exc)
        yield _gauge("hostward_host_record_valid", "0 if the stored host record is unreadable.", 0)
        return
    if stored is None:
        yield from _unavailable(health_unavailable(snapshot))
        return
    host = stored.record.snapshot
    yield _gauge(
        "hostward_host_last_collect_timestamp_seconds",
        "When host health was last collected (Unix time).",
        host.taken,
    )
    yield _gauge(
        "hostward_host_collect_errors",
        "Parts of the host (CPU, a filesystem, sensors...) that could not be read last time.",
        len(host.errors),
    )
    yield from _unavailable({**host.unavailable, **health_unavailable(snapshot)})
    yield from _cpu_memory(host)
    yield from _filesystems(host)
    yield from io_families(host)
    yield from detail_families(host)
    yield from link_families(host)
    yield from _sensors(host)
    if host.boot_time is not None:
        yield _gauge("hostward_boot_time_seconds", "When the host booted (Unix time).", host.boot_time)
    if host.processes is not None:
        yield _gauge("hostward_processes", "Processes running.", host.processes)
    yield _gauge(
        "hostward_users_logged_in", "Login sessions open (names in the status page).", len(host.users)
    )


def _unavailable(parts: Mapping[str, str]) -> Iterator[Metric]:
    unavailable = GaugeMetricFamily(
        "hostward_host_part_unavailable",
        "1 for a part this platform/host does not provide (e.g. load without performance counters,\n"
        "SMART without smartctl, failed units without systemd).",
        labels=("part",),
    )
    for part in sorted(parts):
        unavailable.add_metric((part,), 1)
    yield unavailable


def _cpu_memory(host: HostSnapshot) -> Iterator[Metric]:
    if host.cpu_count:
        yield _gauge("hostward_cpus", "Logical CPUs.", host.cpu_count)
    if host.load is not None:
        yield _gauge("hostward_load1", "Load average over 1 minute.", host.load.load1)
        yield _gauge("hostward_load5", "Load average over 5 minutes.", host.load.load5)
        yield _gauge("hostward_load15", "Load average over 15 minutes.", host.load.load15)
    m = host.memory
    if m is not None:
        yield _gauge("hostward_memory_total_bytes", "Physical memory.", m.total)
        yield _gauge("hostward_memory_available_bytes", "Memory available to new programs.", m.available)
        yield _gauge("hostward_memory_used_bytes", "Memory used by programs.", m.used)
        yield _gauge("hostward_memory_free_bytes", "Memory not used at all.", m.free)
        if m.buffers is not None:
            yield _gauge("hostward_memory_buffers_bytes", "Memory used for block-device buffers.", m.buffers)
        if m.cached is not None:
            yield _gauge("hostward_memory_cached_bytes", "Memory used as page cache.", m.cached)
    s = host.swap
    if s is not None:
        yield _gauge("hostward_swap_total_bytes", "Swap space.", s.total)
        yield _gauge("hostward_swap_used_bytes", "Swap space in use.", s.used)
        yield CounterMetricFamily("hostward_swap_in_bytes_total", "Bytes swapped in since boot.", value=s.sin)
        yield CounterMetricFamily(
            "hostward_swap_out_bytes_total", "Bytes swapped out since boot.", value=s.sout
        )


def _filesystems(host: HostSnapshot) -> Iterator[Metric]:
    if not host.filesystems:
        return
    size = GaugeMetricFamily("hostward_filesystem_size_bytes", "Filesystem size.", labels=_FS)
    free = GaugeMetricFamily(
        "hostward_filesystem_free_bytes", "Free space, including space reserved for root.", labels=_FS
    )
    avail = GaugeMetricFamily(
        "hostward_filesystem_avail_bytes", "Space an unprivileged user can still write.", labels=_FS
    )
    files = GaugeMetricFamily("hostward_filesystem_files", "Inodes (file slots).", labels=_FS)
    files_free = GaugeMetricFamily("hostward_filesystem_files_free", "Free inodes.", labels=_FS)
    for fs in host.filesystems:
        labels = (fs.mountpoint, fs.device, fs.fstype)
        size.add_metric(labels, fs.size)
        free.add_metric(labels, fs.free)
        avail.add_metric(labels, fs.avail)
        files.add_metric(labels, fs.files)
        files_free.add_metric(labels, fs.files_free)
    yield from (size, free, avail)
    if "inodes" not in host.unavailable:  # Windows: no inode counts, not "0 inodes left"
        yield from (files, files_free)


def _sensors(host: HostSnapshot) -> Iterator[Metric]:
    if host.temperatures:
        temp = GaugeMetricFamily("hostward_temperature_celsius", "Sensor temperature.", labels=_SENSOR)
        for t in host.temperatures:
            temp.add_metric((t.sensor, t.label), t.celsius)
        yield temp
    if host.fans:
        fan = GaugeMetricFamily("hostward_fan_speed_rpm", "Fan speed.", labels=_SENSOR)
        for f in host.fans:
            fan.add_metric((f.sensor, f.label), f.rpm)
        yield fan
