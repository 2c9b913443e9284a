"""Asset-register families (ROOM-5) from the stored "inventory" record.

- `hostward_host_info{vendor,model,serial,os}` = 1: one series per host (it changes only when
  the hardware or the OS does), to join with any other series of the host;
- `hostward_inventory_changes_total{kind}`: changes journaled as `inventory.changed`, by kind
  (collectors/inventory/diff.KINDS), every kind present from the first run;
- `hostward_device_info{device,vendor,model,serial}` = 1 for each chassis of a machine-room
  device in the ENTITY-MIB register (a stack has one per member);
- `hostward_inventory_last_timestamp_seconds` and `hostward_inventory_section_error{section}`
  (1 for a section that could not be read last time: an incomplete register is visible).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agent.records.base import StateError
from agent.records.inventory import InventoryRecord
from agent.state import Snapshot
from collectors.inventory.diff import KINDS
from collectors.inventory.model import SECTIONS

RECORD_KIND = InventoryRecord.KIND
log = logging.getLogger(__name__)
_INFO = ("vendor", "model", "serial", "os")


def inventory_families(snapshot: Snapshot) -> Iterator[Metric]:
    try:
        stored = snapshot.get(InventoryRecord)
    except StateError as exc:  # shown as hostward_state_record_valid{kind="inventory"} 0
        log.warning("%s", exc)
        return
    if stored is None:
        return
    record = stored.record
    ids = record.identity()
    info = GaugeMetricFamily(
        "hostward_host_info", "Maker, model, serial number and OS of this host (value 1).", labels=_INFO
    )
    info.add_metric(tuple(ids[k] for k in _INFO), 1)
    yield info
    yield GaugeMetricFamily(
        "hostward_inventory_last_timestamp_seconds", "When the asset register was last read (Unix time).",
        value=stored.taken,
    )  # fmt: skip
    counter = CounterMetricFamily(
        "hostward_inventory_changes_total",
        "Changes of the asset register journaled as inventory.changed (disk, adapter, MAC, serial,"
        " software).",
        labels=("kind",),
    )
    for kind in KINDS:
        counter.add_metric((kind,), float(record.changes_total.get(kind, 0)))
    yield counter
    errors = GaugeMetricFamily(
        "hostward_inventory_section_error",
        "1 when a section of the asset register could not be read last time.",
        labels=("section",),
    )
    for name in SECTIONS:
        section = record.sections.get(name)
        if section is not None:
            errors.add_metric((name,), 1 if section.status == "error" else 0)
    yield errors
    devices = record.sections.get("devices")
    if devices is not None:
        family = GaugeMetricFamily(
            "hostward_device_info",
            "Vendor, model and serial number of each chassis of a machine-room device (value 1).",
            labels=("device", "vendor", "model", "serial"),
        )
        seen = set()
        for part in devices.items:
            if part.get("klass") in ("chassis", "system"):
                labels = tuple(str(part.get(k, "")) for k in ("device", "vendor", "model", "serial"))
                if labels not in seen:
                    seen.add(labels)
                    family.add_metric(labels, 1)
        yield family
