"""Pure parsers: raw SNMP values (as `SnmpSession` returns them) -> records in base units.

No I/O here; tests feed recorded values. Columns are `{column name: {row index: value}}`.
"""

from __future__ import annotations

from collectors.devices import oids
from collectors.devices.records import EntityPart, Interface, Sensor, Storage, SystemInfo, UpsStatus
from common.text import utf8_else_gb18030

Value = int | str | bytes
Columns = dict[str, dict[str, Value]]

_OUTPUT_SOURCE = {1: "other", 2: "none", 3: "normal", 4: "bypass", 5: "battery", 6: "booster", 7: "reducer"}
_BATTERY_STATUS = {1: "unknown", 2: "normal", 3: "low", 4: "depleted"}


def text(value: Value | None) -> str:
    """OCTET STRING -> str: UTF-8, else GB18030 (Chinese gear), never failing."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return utf8_else_gb18030(value.rstrip(b"\x00"))
    return str(value)


def number(value: Value | None) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):  # some agents send numbers as strings
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def parse_system(values: dict[str, Value]) -> SystemInfo:
    ticks = number(values.get(oids.SYS_UPTIME))
    return SystemInfo(
        descr=text(values.get(oids.SYS_DESCR)),
        name=text(values.get(oids.SYS_NAME)),
        location=text(values.get(oids.SYS_LOCATION)),
        object_id=str(values.get(oids.SYS_OBJECT_ID, "")),
        uptime_seconds=None if ticks is None else ticks / 100.0,
    )


def parse_interfaces(if_table: Columns, ifx_table: Columns) -> tuple[Interface, ...]:
    """ifTable joined with ifXTable by ifIndex; 64-bit octet counters win when present."""
    indexes = sorted(set(if_table.get("descr", {})) | set(if_table.get("oper_status", {})), key=_index_key)
    out = []
    for index in indexes:
        row = {name: column.get(index) for name, column in if_table.items()}
        xrow = {name: column.get(index) for name, column in ifx_table.items()}
        hc_in, hc_out = number(xrow.get("hc_in_octets")), number(xrow.get("hc_out_octets"))
        high_speed = number(xrow.get("high_speed"))
        speed = number(row.get("speed"))
        if high_speed and (speed is None or speed >= 4294967295 or high_speed * 1_000_000 > speed):
            speed = high_speed * 1_000_000
        out.append(
            Interface(
                index=index,
                name=text(xrow.get("name")) or text(row.get("descr")) or f"if{index}",
                alias=text(xrow.get("alias")),
                up=number(row.get("oper_status")) == 1,
                admin_up=number(row.get("admin_status")) == 1,
                speed_bps=speed,
                in_bytes=hc_in if hc_in is not None else number(row.get("in_octets")),
                out_bytes=hc_out if hc_out is not None else number(row.get("out_octets")),
                in_errors=number(row.get("in_errors")),
                out_errors=number(row.get("out_errors")),
                in_discards=number(row.get("in_discards")),
                out_discards=number(row.get("out_discards")),
                counters_64bit=hc_in is not None and hc_out is not None,
            )
        )
    return tuple(out)


def parse_processors(table: Columns) -> tuple[float, ...]:
    loads = table.get("load", {})
    return tuple(
        max(0.0, min(1.0, load / 100.0))
        for index in sorted(loads, key=_index_key)
        if (load := number(loads[index])) is not None
    )


def parse_storage(table: Columns) -> tuple[Storage, ...]:
    out = []
    for index in sorted(table.get("size", {}), key=_index_key):
        unit = number(table.get("allocation_units", {}).get(index)) or 0
        size = number(table["size"].get(index)) or 0
        used = number(table.get("used", {}).get(index)) or 0
        if unit <= 0 or size <= 0:
            continue
        kind = oids.HR_STORAGE_TYPES.get(str(table.get("type", {}).get(index, "")), "other")
        out.append(Storage(index, text(table.get("descr", {}).get(index)), kind, size * unit, used * unit))
    return tuple(out)


def parse_ups(
    scalars: dict[str, Value], inputs: Columns, outputs: Columns, alarms: Columns
) -> UpsStatus | None:
    """RFC 1628 values -> UpsStatus; None when the device has no UPS-MIB at all."""
    if not scalars and not inputs and not outputs:
        return None
    source_code = number(scalars.get(oids.UPS_OUTPUT_SOURCE))
    seconds_on_battery = number(scalars.get(oids.UPS_SECONDS_ON_BATTERY))
    alarm_names = tuple(
        oids.UPS_WELL_KNOWN_ALARMS.get(str(v), str(v))
        for _, v in sorted(alarms.get("descr", {}).items(), key=lambda kv: _index_key(kv[0]))
    )
    on_battery = source_code == 5 or "on_battery" in alarm_names
    if source_code is None and seconds_on_battery:
        on_battery = True
    minutes = number(scalars.get(oids.UPS_MINUTES_REMAINING))
    charge = number(scalars.get(oids.UPS_CHARGE_REMAINING))
    temperature = number(scalars.get(oids.UPS_BATTERY_TEMPERATURE))
    loads = [x for v in outputs.get("load", {}).values() if (x := number(v)) is not None]
    return UpsStatus(
        on_battery=on_battery,
        output_source=_OUTPUT_SOURCE.get(source_code or 0, "unknown"),
        battery_status=_BATTERY_STATUS.get(number(scalars.get(oids.UPS_BATTERY_STATUS)) or 1, "unknown"),
        seconds_on_battery=None if seconds_on_battery is None else float(seconds_on_battery),
        runtime_seconds=None if minutes is None else minutes * 60.0,
        charge_ratio=None if charge is None else charge / 100.0,
        battery_temperature_celsius=None if temperature is None else float(temperature),
        load_ratio=max(loads) / 100.0 if loads else None,
        input_voltage_volts=_column_floats(inputs, "voltage"),
        output_voltage_volts=_column_floats(outputs, "voltage"),
        alarms=alarm_names,
    )


def parse_entity_sensors(table: Columns, names: Columns) -> tuple[Sensor, ...]:
    """ENTITY-SENSOR-MIB rows of type celsius(8) or percentRH(9), scaled and rounded by precision."""
    out = []
    for index in sorted(table.get("type", {}), key=_index_key):
        kind = oids.ENTITY_SENSOR_TYPES.get(number(table["type"][index]) or 0)
        raw = number(table.get("value", {}).get(index))
        if kind is None or raw is None:
            continue
        exponent = oids.ENTITY_SCALE_EXPONENT.get(number(table.get("scale", {}).get(index)) or 9, 0)
        precision = number(table.get("precision", {}).get(index)) or 0
        value = raw * (10.0**exponent) / (10.0**precision)
        if kind == "humidity":
            value /= 100.0
        name = text(names.get("name", {}).get(index)) or f"sensor{index}"
        ok = number(table.get("status", {}).get(index)) in (None, 1)
        out.append(Sensor(name, kind, round(value, 6), ok, "entity-sensor"))
    return tuple(out)


_REGISTERED_CLASSES = frozenset({"chassis", "module", "power_supply", "stack"})


def parse_entity_physical(table: Columns) -> tuple[EntityPart, ...]:
    """entPhysicalTable rows to register: chassis, modules, power supplies and stacks, and any
    other part with a serial number (ports, sensors and containers without one are not assets)."""
    out = []
    for index in sorted(table.get("class", {}), key=_index_key):
        cells = {column: text(table.get(column, {}).get(index)) for column, _ in oids.ENTITY_PHYSICAL}
        klass = oids.ENTITY_CLASSES.get(number(table["class"][index]) or 0, "unknown")
        if klass not in _REGISTERED_CLASSES and not cells["serial"]:
            continue
        out.append(
            EntityPart(
                index=index, klass=klass, name=cells["name"], descr=cells["descr"], vendor=cells["vendor"],
                model=cells["model"], serial=cells["serial"], hardware_rev=cells["hardware_rev"],
                firmware_rev=cells["firmware_rev"], software_rev=cells["software_rev"],
            )
        )  # fmt: skip
    return tuple(out)


def parse_apc_uio(table: Columns) -> tuple[Sensor, ...]:
    """APC universal I/O probes: -1 means 'this probe does not measure that'."""
    out = []
    for index in sorted(table.get("name", {}) | table.get("temperature", {}), key=_index_key):
        name = text(table.get("name", {}).get(index)) or f"probe{index}"
        ok = number(table.get("alarm", {}).get(index)) in (None, 1)
        temperature = number(table.get("temperature", {}).get(index))
        humidity = number(table.get("humidity", {}).get(index))
        if temperature is not None and temperature != -1:
            out.append(Sensor(name, "temperature", float(temperature), ok, "apc-uio"))
        if humidity is not None and humidity > 0:
            out.append(Sensor(name, "humidity", humidity / 100.0, ok, "apc-uio"))
    return tuple(out)


def _column_floats(table: Columns, column: str) -> tuple[float, ...]:
    values = table.get(column, {})
    return tuple(
        float(x) for index in sorted(values, key=_index_key) if (x := number(values[index])) is not None
    )


def _index_key(index: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in index.split("."))
    except ValueError:
        return (1 << 62,)
