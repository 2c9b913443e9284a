"""The machine-room devices' own hardware register (ROOM-5), read over SNMP from ENTITY-MIB's
entPhysicalTable: chassis, modules, power supplies and stacks with vendor, model, serial number
and revisions.

A device that does not answer is named in the section's error (the register is incomplete);
its parts are not read as removed. A device that answers but has no entPhysicalTable (much
small gear) is registered by its system group alone (`klass` "system", sysDescr, no serial).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from collectors.devices.config import DeviceConfig
from collectors.devices.poll import poll_devices
from collectors.devices.records import DeviceResult, EntityPart
from collectors.devices.rounds import DEFAULT_CONCURRENCY
from collectors.inventory.model import Section, error, ok, unavailable
from common.frozen import frozen


@frozen
class DevicePart:
    """One hardware part of a machine-room device, as entPhysicalTable describes it, with the device's
    name, kind and site."""

    device: str
    kind: str
    site: str
    index: str
    klass: str
    name: str
    descr: str
    vendor: str
    model: str
    serial: str
    hardware_rev: str
    firmware_rev: str
    software_rev: str


def parts_of(result: DeviceResult) -> list[DevicePart]:
    parts = result.hardware
    if not parts and result.system is not None:
        system = result.system
        parts = (EntityPart("0", "system", system.name, system.descr, "", "", "", "", "", ""),)
    return [DevicePart(result.name, result.kind, result.site, **asdict(p)) for p in parts]


def device_register(devices: Sequence[DeviceConfig], concurrency: int = DEFAULT_CONCURRENCY) -> Section:
    targets = [d for d in devices if d.snmp is not None]
    if not targets:
        return unavailable("devices", "no SNMP device configured (devices:)", "未配置 SNMP 设备（devices:）")
    items: list[DevicePart] = []
    missing: list[str] = []
    for result in poll_devices(targets, concurrency, sections=("entity",)):
        if not result.up:
            missing.append(f"{result.name}: {result.reason}")
            continue
        missing.extend(f"{result.name}: {w}" for w in result.warnings if w.startswith("entity"))
        items.extend(parts_of(result))
    if missing:
        shown = "; ".join(missing)
        return error("devices", f"not read: {shown}", f"未能读取：{shown}", tuple(items))
    return ok("devices", items)
