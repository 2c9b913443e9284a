"""What a device poll returns: frozen dataclasses in base units (bytes, seconds, volts, Celsius,
ratios 0..1). No pysnmp object travels past the client."""

from __future__ import annotations

import dataclasses
from typing import Any

from common.frozen import frozen


@frozen
class SystemInfo:
    """The device's SNMPv2-MIB system group: description, name, location, object id, uptime."""

    descr: str
    name: str
    location: str
    object_id: str
    uptime_seconds: float | None


@frozen
class Interface:
    """One IF-MIB interface: its state, speed (bits per second) and byte, error and discard counters
    (None where the device does not give them)."""

    index: str
    name: str
    alias: str
    up: bool  # ifOperStatus == up
    admin_up: bool
    speed_bps: int | None
    in_bytes: int | None  # 64-bit counters where the device has them, else 32-bit
    out_bytes: int | None
    in_errors: int | None
    out_errors: int | None
    in_discards: int | None
    out_discards: int | None
    counters_64bit: bool


@frozen
class Storage:
    """One HOST-RESOURCES-MIB storage area (memory or disk), in bytes."""

    index: str
    descr: str
    type: str  # ram, fixed_disk, ... or "other"
    size_bytes: int
    used_bytes: int


@frozen
class UpsStatus:
    """A UPS's state (UPS-MIB or NUT): power source, battery, runtime, load, voltages and alarms
    (None where the UPS does not say)."""

    on_battery: bool
    output_source: str  # normal, battery, bypass, booster, reducer, none, other, unknown
    battery_status: str  # normal, low, depleted, unknown
    seconds_on_battery: float | None
    runtime_seconds: float | None
    charge_ratio: float | None
    battery_temperature_celsius: float | None
    load_ratio: float | None  # the highest output line load
    input_voltage_volts: tuple[float, ...]
    output_voltage_volts: tuple[float, ...]
    alarms: tuple[str, ...]


@frozen
class Sensor:
    """One environment sensor reading, and whether the device reports it as fine (status ok, no alarm)."""

    name: str
    kind: str  # temperature (Celsius) or humidity (ratio 0..1)
    value: float
    ok: bool
    source: str  # entity-sensor, apc-uio


@frozen
class EntityPart:
    """An ENTITY-MIB entPhysicalTable row worth registering (ROOM-5): chassis, modules, power
    supplies, stacks, and any part that carries a serial number."""

    index: str
    klass: str  # chassis, module, power_supply, fan, stack, ... (oids.ENTITY_CLASSES)
    name: str
    descr: str
    vendor: str
    model: str
    serial: str
    hardware_rev: str
    firmware_rev: str
    software_rev: str


@frozen
class DeviceResult:
    """One device in one round. `up` is False with a `reason` when nothing could be read."""

    name: str
    kind: str
    site: str
    up: bool
    reason: str
    duration_seconds: float
    system: SystemInfo | None = None
    interfaces: tuple[Interface, ...] = ()
    cpu_load_ratios: tuple[float, ...] = ()
    storage: tuple[Storage, ...] = ()
    ups: UpsStatus | None = None
    sensors: tuple[Sensor, ...] = ()
    warnings: tuple[str, ...] = ()  # parts that failed while the device answered
    hardware: tuple[EntityPart, ...] = ()  # ENTITY-MIB register (read by the inventory job)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the `hostward devices poll --json` item and the stored record)."""
        return dataclasses.asdict(self)


def result_from_dict(data: dict[str, Any]) -> DeviceResult:
    """Inverse of `DeviceResult.to_dict` (for records read back from the state)."""
    system = data.get("system")
    ups = data.get("ups")
    return DeviceResult(
        name=data["name"],
        kind=data["kind"],
        site=data.get("site", ""),
        up=bool(data["up"]),
        reason=data.get("reason", ""),
        duration_seconds=float(data.get("duration_seconds", 0.0)),
        system=SystemInfo(**system) if system else None,
        interfaces=tuple(Interface(**i) for i in data.get("interfaces", ())),
        cpu_load_ratios=tuple(data.get("cpu_load_ratios", ())),
        storage=tuple(Storage(**s) for s in data.get("storage", ())),
        ups=_ups(ups) if ups else None,
        sensors=tuple(Sensor(**s) for s in data.get("sensors", ())),
        warnings=tuple(data.get("warnings", ())),
        hardware=tuple(EntityPart(**p) for p in data.get("hardware", ())),
    )


def _ups(data: dict[str, Any]) -> UpsStatus:
    fixed = dict(data)
    for key in ("input_voltage_volts", "output_voltage_volts", "alarms"):
        fixed[key] = tuple(fixed.get(key, ()))
    return UpsStatus(**fixed)
