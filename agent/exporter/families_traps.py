"""Trap-fed families from the "device_events" record (`agent.device_events`).

- hostward_traps_received_total{kind} / hostward_traps_dropped_total{reason}: what the trap
  receiver accepted and refused (unauthenticated, unknown source, rate limited, malformed...);
- hostward_device_trap_link_down{device,interface}: 1 while a linkDown trap has not been
  followed by linkUp (or a poll that saw the link up);
- hostward_device_last_restart_timestamp_seconds{device,kind}: the last coldStart/warmStart.
The UPS states a trap changes (on battery, battery low) are the UPS families of
`families_devices`, which read the same "devices" record the trap updates.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.records.base import StateError
from agent.records.events import DeviceEvents
from agent.state import Snapshot
from collectors.devices.trap_names import KINDS, REASONS


def trap_families(snapshot: Snapshot) -> Iterator[Metric]:
    try:
        stored = snapshot.get(DeviceEvents)
    except StateError:  # shown as hostward_state_record_valid{kind="device_events"} 0
        return
    if stored is None:
        return
    events = stored.record
    received = CounterMetricFamily(
        "hostward_traps_received_total", "SNMP traps accepted, by kind.", labels=["kind"]
    )
    for kind in sorted(set(KINDS) | set(events.received)):
        received.add_metric([kind], float(events.received.get(kind, 0)))
    dropped = CounterMetricFamily(
        "hostward_traps_dropped_total",
        "SNMP traps (or datagrams) dropped, by reason: unknown source, bad community,\n"
        "unauthenticated, security level, rate limited, malformed...",
        labels=["reason"],
    )
    for reason in sorted(set(REASONS) | set(events.dropped)):
        dropped.add_metric([reason], float(events.dropped.get(reason, 0)))
    links = GaugeMetricFamily(
        "hostward_device_trap_link_down",
        "1 while a linkDown trap from the device has not been followed by linkUp.",
        labels=["device", "interface"],
    )
    for device, ports in sorted(events.links_down.items()):
        for port in sorted(ports):
            links.add_metric([device, port], 1.0)
    restarts = GaugeMetricFamily(
        "hostward_device_last_restart_timestamp_seconds",
        "When the device last announced a restart (coldStart/warmStart trap).",
        labels=["device", "kind"],
    )
    for device, restart in sorted(events.restarts.items()):
        try:
            restarts.add_metric([device, str(restart.get("kind", ""))], float(restart["at"]))
        except (KeyError, TypeError, ValueError):
            continue
    last = GaugeMetricFamily(
        "hostward_device_events_last_timestamp_seconds", "When the last machine-room event happened."
    )
    if events.events:
        last.add_metric([], events.events[-1].at)
    yield from (received, dropped, links, restarts, last)
