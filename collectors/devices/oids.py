"""The OIDs hostward reads, compiled in code: no MIB files are parsed at start-up.

Each table lists the columns read, as (name, column OID). Values are converted to base units
by `collectors.devices.parsers`.
"""

from __future__ import annotations

# SNMPv2-MIB system group (scalars, instance .0)
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"  # TimeTicks, hundredths of a second
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_LOCATION = "1.3.6.1.2.1.1.6.0"
SYSTEM = (SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME, SYS_LOCATION)

Table = tuple[tuple[str, str], ...]

# IF-MIB ifTable (RFC 2863) and ifXTable (64-bit counters, names, high speed)
IF_TABLE: Table = (
    ("descr", "1.3.6.1.2.1.2.2.1.2"),
    ("oper_status", "1.3.6.1.2.1.2.2.1.8"),  # 1 up, 2 down, 3 testing, ... 7 lowerLayerDown
    ("admin_status", "1.3.6.1.2.1.2.2.1.7"),
    ("in_discards", "1.3.6.1.2.1.2.2.1.13"),
    ("in_errors", "1.3.6.1.2.1.2.2.1.14"),
    ("out_discards", "1.3.6.1.2.1.2.2.1.19"),
    ("out_errors", "1.3.6.1.2.1.2.2.1.20"),
)
# Read only when the device has no ifXTable 64-bit counters / high speed (old or tiny gear).
IF_TABLE_32BIT: Table = (
    ("speed", "1.3.6.1.2.1.2.2.1.5"),  # bits/s, Gauge32 (saturates at 4.29 Gb/s)
    ("in_octets", "1.3.6.1.2.1.2.2.1.10"),
    ("out_octets", "1.3.6.1.2.1.2.2.1.16"),
)
IFX_TABLE: Table = (
    ("name", "1.3.6.1.2.1.31.1.1.1.1"),
    ("hc_in_octets", "1.3.6.1.2.1.31.1.1.1.6"),
    ("hc_out_octets", "1.3.6.1.2.1.31.1.1.1.10"),
    ("high_speed", "1.3.6.1.2.1.31.1.1.1.15"),  # Mb/s
    ("alias", "1.3.6.1.2.1.31.1.1.1.18"),
)

# HOST-RESOURCES-MIB (RFC 2790)
HR_PROCESSOR: Table = (("load", "1.3.6.1.2.1.25.3.3.1.2"),)  # percent over the last minute
HR_STORAGE: Table = (
    ("type", "1.3.6.1.2.1.25.2.3.1.2"),
    ("descr", "1.3.6.1.2.1.25.2.3.1.3"),
    ("allocation_units", "1.3.6.1.2.1.25.2.3.1.4"),  # bytes per unit
    ("size", "1.3.6.1.2.1.25.2.3.1.5"),  # units
    ("used", "1.3.6.1.2.1.25.2.3.1.6"),  # units
)
HR_STORAGE_TYPES = {
    "1.3.6.1.2.1.25.2.1.2": "ram",
    "1.3.6.1.2.1.25.2.1.3": "virtual_memory",
    "1.3.6.1.2.1.25.2.1.4": "fixed_disk",
    "1.3.6.1.2.1.25.2.1.5": "removable_disk",
    "1.3.6.1.2.1.25.2.1.7": "compact_disc",
    "1.3.6.1.2.1.25.2.1.9": "flash_memory",
    "1.3.6.1.2.1.25.2.1.10": "network_disk",
}

# UPS-MIB (RFC 1628), scalars
UPS_BATTERY_STATUS = "1.3.6.1.2.1.33.1.2.1.0"  # 1 unknown, 2 normal, 3 low, 4 depleted
UPS_SECONDS_ON_BATTERY = "1.3.6.1.2.1.33.1.2.2.0"  # 0 when on mains
UPS_MINUTES_REMAINING = "1.3.6.1.2.1.33.1.2.3.0"
UPS_CHARGE_REMAINING = "1.3.6.1.2.1.33.1.2.4.0"  # percent
UPS_BATTERY_TEMPERATURE = "1.3.6.1.2.1.33.1.2.7.0"  # Celsius
UPS_OUTPUT_SOURCE = "1.3.6.1.2.1.33.1.4.1.0"  # 3 normal, 5 battery, 4 bypass, ...
UPS_ALARMS_PRESENT = "1.3.6.1.2.1.33.1.6.1.0"
UPS_SCALARS = (
    UPS_BATTERY_STATUS,
    UPS_SECONDS_ON_BATTERY,
    UPS_MINUTES_REMAINING,
    UPS_CHARGE_REMAINING,
    UPS_BATTERY_TEMPERATURE,
    UPS_OUTPUT_SOURCE,
    UPS_ALARMS_PRESENT,
)
UPS_INPUT: Table = (("voltage", "1.3.6.1.2.1.33.1.3.3.1.3"),)  # RMS volts per input line
UPS_OUTPUT: Table = (
    ("voltage", "1.3.6.1.2.1.33.1.4.4.1.2"),  # RMS volts per output line
    ("load", "1.3.6.1.2.1.33.1.4.4.1.5"),  # percent of rated load
)
UPS_ALARM: Table = (("descr", "1.3.6.1.2.1.33.1.6.2.1.2"),)  # an OID from upsWellKnownAlarms
UPS_WELL_KNOWN_ALARMS = {
    "1.3.6.1.2.1.33.1.6.3.1": "battery_bad",
    "1.3.6.1.2.1.33.1.6.3.2": "on_battery",
    "1.3.6.1.2.1.33.1.6.3.3": "low_battery",
    "1.3.6.1.2.1.33.1.6.3.4": "depleted_battery",
    "1.3.6.1.2.1.33.1.6.3.5": "temperature_bad",
    "1.3.6.1.2.1.33.1.6.3.6": "input_bad",
    "1.3.6.1.2.1.33.1.6.3.7": "output_bad",
    "1.3.6.1.2.1.33.1.6.3.8": "output_overload",
    "1.3.6.1.2.1.33.1.6.3.9": "on_bypass",
    "1.3.6.1.2.1.33.1.6.3.10": "bypass_bad",
    "1.3.6.1.2.1.33.1.6.3.11": "output_off_as_requested",
    "1.3.6.1.2.1.33.1.6.3.12": "ups_off_as_requested",
    "1.3.6.1.2.1.33.1.6.3.13": "charger_failed",
    "1.3.6.1.2.1.33.1.6.3.14": "ups_output_off",
    "1.3.6.1.2.1.33.1.6.3.15": "ups_system_off",
    "1.3.6.1.2.1.33.1.6.3.16": "fan_failure",
    "1.3.6.1.2.1.33.1.6.3.17": "fuse_failure",
    "1.3.6.1.2.1.33.1.6.3.18": "general_fault",
    "1.3.6.1.2.1.33.1.6.3.19": "diagnostic_test_failed",
    "1.3.6.1.2.1.33.1.6.3.20": "communications_lost",
    "1.3.6.1.2.1.33.1.6.3.21": "awaiting_power",
    "1.3.6.1.2.1.33.1.6.3.22": "shutdown_pending",
    "1.3.6.1.2.1.33.1.6.3.23": "shutdown_imminent",
    "1.3.6.1.2.1.33.1.6.3.24": "test_in_progress",
}

# ENTITY-SENSOR-MIB (RFC 3433) entPhySensorTable, with ENTITY-MIB entPhysicalName for labels
ENTITY_SENSOR: Table = (
    ("type", "1.3.6.1.2.1.99.1.1.1.1"),  # 8 celsius, 9 percentRH
    ("scale", "1.3.6.1.2.1.99.1.1.1.2"),  # 9 units (10^0); 8 milli; ...
    ("precision", "1.3.6.1.2.1.99.1.1.1.3"),  # digits after the decimal point
    ("value", "1.3.6.1.2.1.99.1.1.1.4"),
    ("status", "1.3.6.1.2.1.99.1.1.1.5"),  # 1 ok, 2 unavailable, 3 nonoperational
)
ENTITY_NAME: Table = (("name", "1.3.6.1.2.1.47.1.1.1.1.7"),)
# ENTITY-MIB (RFC 6933) entPhysicalTable: the device's own register of its hardware (ROOM-5)
ENTITY_PHYSICAL: Table = (
    ("descr", "1.3.6.1.2.1.47.1.1.1.1.2"),
    ("class", "1.3.6.1.2.1.47.1.1.1.1.5"),  # 3 chassis, 6 powerSupply, 7 fan, 9 module, 11 stack ...
    ("name", "1.3.6.1.2.1.47.1.1.1.1.7"),
    ("hardware_rev", "1.3.6.1.2.1.47.1.1.1.1.8"),
    ("firmware_rev", "1.3.6.1.2.1.47.1.1.1.1.9"),
    ("software_rev", "1.3.6.1.2.1.47.1.1.1.1.10"),
    ("serial", "1.3.6.1.2.1.47.1.1.1.1.11"),
    ("vendor", "1.3.6.1.2.1.47.1.1.1.1.12"),
    ("model", "1.3.6.1.2.1.47.1.1.1.1.13"),
)
ENTITY_CLASSES = {
    1: "other", 2: "unknown", 3: "chassis", 4: "backplane", 5: "container", 6: "power_supply", 7: "fan",
    8: "sensor", 9: "module", 10: "port", 11: "stack", 12: "cpu", 13: "energy_object", 14: "battery",
    15: "storage_drive",
}  # fmt: skip
ENTITY_SENSOR_TYPES = {8: "temperature", 9: "humidity"}
# entPhySensorScale: yocto(1) .. units(9) .. yotta(17), powers of 10 in steps of 3
ENTITY_SCALE_EXPONENT = {i: (i - 9) * 3 for i in range(1, 18)}

# APC NMC universal I/O sensors (AP9335TH etc.), PowerNet-MIB uioSensorStatusTable, index port.sensor
APC_UIO_SENSOR: Table = (
    ("name", "1.3.6.1.4.1.318.1.1.25.1.2.1.3"),  # uioSensorStatusSensorName
    ("temperature", "1.3.6.1.4.1.318.1.1.25.1.2.1.6"),  # uioSensorStatusTemperatureDegC
    ("humidity", "1.3.6.1.4.1.318.1.1.25.1.2.1.7"),  # uioSensorStatusHumidity (percent, -1 none)
    ("alarm", "1.3.6.1.4.1.318.1.1.25.1.2.1.9"),  # uioSensorStatusAlarmStatus 1 normal, 2 warn, 3 crit
)
