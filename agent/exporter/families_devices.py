"""Machine-room families from the stored "devices" and "device_configs" records.

Built from stored records only; the one thing computed at scrape time is how long an open
outage has lasted (now - start), which reads no device.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.records.base import StateError
from agent.records.devices import ConfigBackup, DeviceConfigsRecord, DevicesRecord, OutageBook
from agent.state import Snapshot
from collectors.devices import outages
from collectors.devices.records import DeviceResult

log = logging.getLogger(__name__)
_DEV = ("device", "kind", "site")
_BATTERY_STATES = ("normal", "low", "depleted", "unknown")


def device_families(snapshot: Snapshot) -> Iterator[Metric]:
    try:
        stored = snapshot.get(DevicesRecord)
    except StateError as exc:  # shown as hostward_state_record_valid{kind="devices"} 0
        log.warning("%s", exc)
        stored = None
    if stored is not None:
        results = list(stored.record.devices)
        yield GaugeMetricFamily(
            "hostward_devices_last_poll_timestamp_seconds",
            "When devices were last polled (Unix time).",
            value=stored.taken,
        )
        yield from _rounds(stored.record.rounds)
        yield from _devices(results)
        yield from _interfaces(results)
        yield from _host_resources(results)
        yield from _ups(results)
        yield from _sensors(results)
        yield from _outages(stored.record.outages, time.time())
    try:
        configs = snapshot.get(DeviceConfigsRecord)
    except StateError as exc:
        log.warning("%s", exc)
        configs = None
    if configs is not None:
        yield from _configs(configs.record.devices)


def _rounds(rounds: Mapping[str, float]) -> Iterator[Metric]:
    """When each polling round last ran: a set-aside network round shows here while the power
    round (UPS, room sensors) goes on."""
    family = _g(
        "hostward_devices_round_last_poll_timestamp_seconds", "When each device round last ran.", ("round",)
    )
    for name, taken in sorted(rounds.items()):
        family.add_metric([name], taken)
    yield family


def _g(name: str, doc: str, labels: tuple[str, ...]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _c(name: str, doc: str, labels: tuple[str, ...]) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=list(labels))


def _key(r: DeviceResult) -> tuple[str, str, str]:
    return (r.name, r.kind, r.site)


def _devices(results: list[DeviceResult]) -> Iterator[Metric]:
    up = _g("hostward_device_up", "1 if the device answered SNMP in the last round.", ("device",))
    info = _g("hostward_device_info", "Device identity; always 1.", (*_DEV, "sys_name"))
    took = _g("hostward_device_poll_duration_seconds", "Time the last poll of the device took.", ("device",))
    uptime = _g("hostward_device_uptime_seconds", "Device uptime (sysUpTime).", _DEV)
    warnings = _g("hostward_device_poll_warnings", "Parts of the device that could not be read.", ("device",))
    for r in results:
        up.add_metric((r.name,), 1.0 if r.up else 0.0)
        info.add_metric((*_key(r), r.system.name if r.system else ""), 1.0)
        took.add_metric((r.name,), r.duration_seconds)
        warnings.add_metric((r.name,), len(r.warnings))
        if r.system and r.system.uptime_seconds is not None:
            uptime.add_metric(_key(r), r.system.uptime_seconds)
    yield from (up, info, took, uptime, warnings)


def _interfaces(results: list[DeviceResult]) -> Iterator[Metric]:
    labels = (*_DEV, "interface")
    up = _g("hostward_device_interface_up", "1 if the interface is operationally up.", labels)
    speed = _g("hostward_device_interface_speed_bytes", "Interface speed in bytes per second.", labels)
    counters = {
        field: _c(f"hostward_device_interface_{name}", doc, labels)
        for field, name, doc in (
            ("in_bytes", "receive_bytes", "Bytes received (64-bit counters where the device has them)."),
            ("out_bytes", "transmit_bytes", "Bytes sent (64-bit counters where the device has them)."),
            ("in_errors", "receive_errors", "Inbound packets with errors."),
            ("out_errors", "transmit_errors", "Outbound packets with errors."),
            ("in_discards", "receive_discards", "Inbound packets discarded."),
            ("out_discards", "transmit_discards", "Outbound packets discarded."),
        )
    }
    for r in results:
        for i in r.interfaces:
            key = (*_key(r), i.name)
            up.add_metric(key, 1.0 if i.up else 0.0)
            if i.speed_bps is not None:
                speed.add_metric(key, i.speed_bps / 8)
            for field, family in counters.items():
                value = getattr(i, field)
                if value is not None:
                    family.add_metric(key, value)
    yield from (up, speed, *counters.values())


def _host_resources(results: list[DeviceResult]) -> Iterator[Metric]:
    cpu = _g("hostward_device_cpu_load_ratio", "Processor load over the last minute (0..1).", (*_DEV, "cpu"))
    size = _g("hostward_device_storage_size_bytes", "Storage area size.", (*_DEV, "storage", "type"))
    used = _g("hostward_device_storage_used_bytes", "Storage area used.", (*_DEV, "storage", "type"))
    for r in results:
        for n, load in enumerate(r.cpu_load_ratios):
            cpu.add_metric((*_key(r), str(n)), load)
        for s in r.storage:
            size.add_metric((*_key(r), s.descr, s.type), s.size_bytes)
            used.add_metric((*_key(r), s.descr, s.type), s.used_bytes)
    yield from (cpu, size, used)


def _ups(results: list[DeviceResult]) -> Iterator[Metric]:
    on_battery = _g("hostward_ups_on_battery", "1 if the UPS runs on battery (mains lost).", _DEV)
    status = _g("hostward_ups_battery_status", "1 for the battery's current status.", (*_DEV, "status"))
    scalars = {
        "charge_ratio": _g("hostward_ups_battery_charge_ratio", "Battery charge (0..1).", _DEV),
        "runtime_seconds": _g("hostward_ups_battery_runtime_seconds", "Estimated runtime on battery.", _DEV),
        "seconds_on_battery": _g(
            "hostward_ups_seconds_on_battery", "Time on battery so far; 0 on mains.", _DEV
        ),
        "load_ratio": _g("hostward_ups_load_ratio", "Output load of the busiest line (0..1).", _DEV),
        "battery_temperature_celsius": _g(
            "hostward_ups_battery_temperature_celsius", "Battery temperature.", _DEV
        ),
    }
    volts_in = _g("hostward_ups_input_voltage_volts", "Input voltage per line.", (*_DEV, "line"))
    volts_out = _g("hostward_ups_output_voltage_volts", "Output voltage per line.", (*_DEV, "line"))
    alarms = _g(
        "hostward_ups_alarm", "1 for each alarm present (RFC 1628 well-known alarms).", (*_DEV, "alarm")
    )
    for r in results:
        u = r.ups
        if u is None:
            continue
        on_battery.add_metric(_key(r), 1.0 if u.on_battery else 0.0)
        for state in _BATTERY_STATES:
            status.add_metric((*_key(r), state), 1.0 if u.battery_status == state else 0.0)
        for field, family in scalars.items():
            value = getattr(u, field)
            if value is not None:
                family.add_metric(_key(r), value)
        for n, v in enumerate(u.input_voltage_volts, 1):
            volts_in.add_metric((*_key(r), str(n)), v)
        for n, v in enumerate(u.output_voltage_volts, 1):
            volts_out.add_metric((*_key(r), str(n)), v)
        for alarm in u.alarms:
            alarms.add_metric((*_key(r), alarm), 1.0)
    yield from (on_battery, status, *scalars.values(), volts_in, volts_out, alarms)


def _sensors(results: list[DeviceResult]) -> Iterator[Metric]:
    labels = (*_DEV, "sensor")
    temperature = _g("hostward_device_temperature_celsius", "Room/rack temperature.", labels)
    humidity = _g("hostward_device_humidity_ratio", "Relative humidity (0..1).", labels)
    ok = _g("hostward_device_sensor_ok", "0 if the sensor reports a fault or an alarm.", (*labels, "measure"))
    for r in results:
        for s in r.sensors:
            (temperature if s.kind == "temperature" else humidity).add_metric((*_key(r), s.name), s.value)
            ok.add_metric((*_key(r), s.name, s.kind), 1.0 if s.ok else 0.0)
    yield from (temperature, humidity, ok)


def _outages(book: OutageBook, now: float) -> Iterator[Metric]:
    is_open = _g("hostward_outage_open", "1 while the target (device or `host`) is down.", ("target",))
    since = _g("hostward_outage_start_timestamp_seconds", "When the open outage began.", ("target",))
    lasting = _g("hostward_outage_duration_seconds", "How long the open outage has lasted.", ("target",))
    over = _g(
        "hostward_outage_over_threshold",
        "1 if the open outage has lasted past the threshold (ROOM-2: 2h, 4h at most).",
        ("target", "threshold"),
    )
    restore = _g(
        "hostward_outage_last_restore_seconds", "Time to restore of the last closed outage.", ("target",)
    )
    total = _c("hostward_outages", "Outages begun (devices) or found (host).", ("target",))
    over_total = _c(
        "hostward_outages_over_threshold",
        "Closed outages that lasted past the threshold.",
        ("target", "threshold"),
    )
    open_ = {o.target: o for o in book.open}
    targets = sorted(set(open_) | set(book.totals))
    for target in targets:
        o = open_.get(target)
        is_open.add_metric((target,), 1.0 if o else 0.0)
        if o is not None:
            since.add_metric((target,), o.start)
            lasting.add_metric((target,), o.seconds(now))
        for name, passed in (outages.over_thresholds(o, now) if o else {}).items():
            over.add_metric((target, name), 1.0 if passed else 0.0)
        if o is None:
            for name in outages.THRESHOLDS_SECONDS:
                over.add_metric((target, name), 0.0)
        total.add_metric((target,), book.totals.get(target, 0.0))
        for name in outages.THRESHOLDS_SECONDS:
            over_total.add_metric((target, name), book.over_totals.get(target, {}).get(name, 0.0))
    for target, seconds in sorted(book.last_restore_seconds.items()):
        restore.add_metric((target,), seconds)
    yield from (is_open, since, lasting, over, restore, total, over_total)


def _configs(items: tuple[ConfigBackup, ...]) -> Iterator[Metric]:
    ok = _g("hostward_device_config_backup_success", "1 if the last config backup worked.", ("device",))
    changed = _g(
        "hostward_device_config_changed", "1 if the last config backup found a changed config.", ("device",)
    )
    last_change = _g(
        "hostward_device_config_last_change_timestamp_seconds",
        "When a changed config was last stored.",
        ("device",),
    )
    versions = _g("hostward_device_config_versions", "Config versions kept.", ("device",))
    for item in items:
        ok.add_metric((item.name,), 1.0 if item.ok else 0.0)
        changed.add_metric((item.name,), 1.0 if item.changed else 0.0)
        if item.last_change:
            last_change.add_metric((item.name,), item.last_change)
        versions.add_metric((item.name,), float(item.versions))
    yield from (ok, changed, last_change, versions)
