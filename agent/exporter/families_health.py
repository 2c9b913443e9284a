"""Families from the stored "host_health" record (SMART, failed units, clock sync; see
collectors.host_health), and the network link state from the "host" record.

Unavailable parts of this record join `hostward_host_part_unavailable` (families_host.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from agent.records.base import StateError
from agent.records.host import HostHealthRecord
from agent.state import Snapshot
from collectors.host import HostSnapshot
from collectors.host_health import HostHealth
from collectors.system.linux.systemd import MAX_UNITS

log = logging.getLogger(__name__)
HEALTH_KIND = HostHealthRecord.KIND


def read_health(snapshot: Snapshot) -> HostHealth | None:
    try:
        stored = snapshot.get(HostHealthRecord)
    except StateError as exc:
        log.warning("host_health record unreadable: %s", exc)
        return None
    return stored.record.health if stored is not None else None


def health_unavailable(snapshot: Snapshot) -> Mapping[str, str]:
    health = read_health(snapshot)
    return {} if health is None else health.unavailable


def health_families(snapshot: Snapshot) -> Iterator[Metric]:
    health = read_health(snapshot)
    if health is None:
        if HEALTH_KIND in snapshot.records:
            yield GaugeMetricFamily(
                "hostward_host_health_record_valid", "0 if the stored host_health record is unreadable.", 0
            )
        return
    yield GaugeMetricFamily(
        "hostward_host_health_timestamp_seconds",
        "When disk health, failed units and clock sync were last read (Unix time).",
        health.taken,
    )
    yield GaugeMetricFamily(
        "hostward_host_health_errors",
        "Parts (SMART of a disk, failed units, clock sync) that could not be read last time.",
        len(health.errors),
    )
    if health.disks:
        healthy = GaugeMetricFamily(
            "hostward_disk_smart_healthy",
            "The disk's SMART overall self-assessment (smartctl -H): 1 passed, 0 failing.",
            labels=("device", "model"),
        )
        errors = GaugeMetricFamily(
            "hostward_disk_smart_errors",
            "SMART error counters: reallocated/pending/offline_uncorrectable sectors, media_errors,\n"
            "error_log_entries, uncorrected_errors (those the disk reports).",
            labels=("device", "counter"),
        )
        for disk in health.disks:
            healthy.add_metric((disk.device, disk.model), 1 if disk.healthy else 0)
            for counter, value in sorted(disk.errors.items()):
                errors.add_metric((disk.device, counter), value)
        yield healthy
        yield errors
    if health.failed_units is not None:
        yield GaugeMetricFamily(
            "hostward_systemd_units_failed", "systemd units in the failed state.", len(health.failed_units)
        )
        unit = GaugeMetricFamily(
            "hostward_systemd_unit_failed",
            f"1 for each failed systemd unit (the first {MAX_UNITS} by name).",
            labels=("unit",),
        )
        for name in health.failed_units[:MAX_UNITS]:
            unit.add_metric((name,), 1)
        yield unit
    if health.stopped_services is not None:
        yield GaugeMetricFamily(
            "hostward_windows_services_stopped",
            "Windows services set to start automatically that are not running.",
            len(health.stopped_services),
        )
        service = GaugeMetricFamily(
            "hostward_windows_service_stopped",
            f"1 for each automatic Windows service not running (the first {MAX_UNITS} by name).",
            labels=("service",),
        )
        for name in health.stopped_services[:MAX_UNITS]:
            service.add_metric((name,), 1)
        yield service
    if health.time_synchronized is not None:
        yield GaugeMetricFamily(
            "hostward_time_synchronized",
            "1 when the clock is synchronised to a time server (timedatectl NTPSynchronized).",
            1 if health.time_synchronized else 0,
        )


def link_families(host: HostSnapshot) -> Iterator[Metric]:
    links = [n for n in host.networks if n.up is not None]
    if links:
        up = GaugeMetricFamily(
            "hostward_network_up",
            "1 when the interface is up with a link (carrier), else 0.",
            labels=("interface",),
        )
        for n in links:
            up.add_metric((n.interface,), 1 if n.up else 0)
        yield up
