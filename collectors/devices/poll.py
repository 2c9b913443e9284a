"""Poll every SNMP device concurrently, each within its own time budget.

`poll_devices(devices)` -> one `DeviceResult` per device with SNMP configured, in config order.
A dead or slow device costs only its own budget (`snmp.timeout`): devices run concurrently on
one asyncio loop, `concurrency` at a time (`rounds.plan_round` sizes it to the job timeout).
pysnmp is imported on first use, never at module import, so an office PC without devices never loads it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from collectors.devices import oids, parsers
from collectors.devices.config import DeviceConfig, SnmpConfig
from collectors.devices.records import DeviceResult, Sensor
from collectors.devices.rounds import DEFAULT_CONCURRENCY
from collectors.devices.secrets import Credentials, snmp_credentials
from collectors.devices.snmp_session import Session, SnmpError
from common.secrets import SecretFileError

log = logging.getLogger(__name__)

# What is read per kind of device, beyond the system group. Explicit, not discovered.
SECTIONS: dict[str, tuple[str, ...]] = {
    "switch": ("interfaces", "host"),
    "router": ("interfaces", "host"),
    "ups": ("ups", "sensors"),
    "sensor": ("sensors",),
    "printer": ("interfaces",),
    "bmc": ("sensors", "host"),
}
# Devices in flight at once (`rounds.DEFAULT_CONCURRENCY`, more when the round needs it).
# Bounded so that a device's budget starts when its turn comes: with everything in flight on a
# slow shared path, every walk would progress a little and all would hit their budgets together.


def poll_devices(
    devices: Sequence[DeviceConfig],
    concurrency: int = DEFAULT_CONCURRENCY,
    v2c_engine: str = "native",
    sections: tuple[str, ...] | None = None,
) -> list[DeviceResult]:
    """Poll all devices that have `snmp:`; blocking (runs its own event loop).

    `v2c_engine="native"`: v2c devices, and v3 ones with SHA-1/SHA-2 auth and AES-128 or no
    privacy, use the built-in codec (`snmp_v2c`, `snmp_usm`); other v3 protocols use pysnmp.
    `"pysnmp"` sends every device through pysnmp (the benchmark and tests compare both).
    `sections`: what to read instead of the kind's SECTIONS (the inventory job reads "entity").
    """
    targets = [d for d in devices if d.snmp is not None]
    if not targets:
        return []
    return asyncio.run(poll_devices_async(targets, concurrency, v2c_engine, sections))


async def poll_devices_async(
    devices: Sequence[DeviceConfig],
    concurrency: int,
    v2c_engine: str = "native",
    sections: tuple[str, ...] | None = None,
) -> list[DeviceResult]:
    engines: dict[Any, Any] = {}
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(device: DeviceConfig) -> DeviceResult:
        async with gate:
            return await poll_one(device, engines, v2c_engine, sections)

    return list(await asyncio.gather(*(one(d) for d in devices)))


async def poll_one(
    device: DeviceConfig,
    engines: dict[Any, Any],
    v2c_engine: str = "native",
    sections: tuple[str, ...] | None = None,
) -> DeviceResult:
    """One device: the system group first (down if it fails), then its kind's sections."""
    assert device.snmp is not None
    config = device.snmp
    started = time.monotonic()
    deadline = started + config.timeout

    def result(up: bool, reason: str, **values: Any) -> DeviceResult:
        took = round(time.monotonic() - started, 4)
        return DeviceResult(device.name, device.kind, device.site, up, reason, took, **values)

    try:
        secrets = snmp_credentials(config)
    except SecretFileError as exc:
        return result(False, str(exc))
    session: Session | None = None
    try:
        # the budget covers opening too: a host name whose DNS answers slowly costs only it
        session = await asyncio.wait_for(_open(device, config, secrets, engines, v2c_engine), _left(deadline))
        system = await asyncio.wait_for(session.get(oids.SYSTEM), _left(deadline))
        if not system:
            return result(False, "device answered but has no system group (SNMPv2-MIB)")
        values: dict[str, Any] = {"system": parsers.parse_system(system)}
        warnings: list[str] = []
        for section in SECTIONS[device.kind] if sections is None else sections:
            try:
                values.update(await asyncio.wait_for(_READERS[section](session), _left(deadline)))
            except SnmpError as exc:
                warnings.append(f"{section}: {exc.reason}")
            except TimeoutError:
                warnings.append(f"{section}: time budget of {config.timeout:g}s used up")
                break
        warnings.extend(session.warnings)
        return result(True, "", warnings=tuple(warnings), **values)
    except SnmpError as exc:
        return result(False, _silence(config) if exc.reason.startswith("no answer") else exc.reason)
    except TimeoutError:
        return result(False, _silence(config))
    except OSError as exc:
        return result(False, f"network error: {exc.strerror or exc}")
    finally:
        close = getattr(session, "close", None)
        if close is not None:
            close()


async def _open(
    device: DeviceConfig, config: SnmpConfig, secrets: Credentials, engines: dict[Any, Any], v2c_engine: str
) -> Session:
    # Requests get a share of the budget so that retries fit in it; the budget is the hard cap.
    per_try = max(0.1, config.timeout / (config.retries + 1) * 0.95)
    if config.version == "2c" and v2c_engine == "native":
        from collectors.devices.snmp_v2c import V2cSession

        return await V2cSession.open(
            device.host, device.snmp_port, secrets.community,
            timeout=per_try, retries=config.retries, max_rows=config.max_rows,
        )  # fmt: skip
    if config.version == "3" and v2c_engine == "native":
        from collectors.devices import snmp_usm

        if snmp_usm.supports(config.auth_protocol, config.priv_protocol):
            return await snmp_usm.UsmSession.open_usm(
                device.host, device.snmp_port, user=config.user, auth=config.auth_protocol,
                auth_key=secrets.auth_key, priv_key=secrets.priv_key if config.priv_protocol == "AES" else "",
                context=config.context, timeout=per_try, retries=config.retries, max_rows=config.max_rows,
            )  # fmt: skip
    from collectors.devices import snmp_client  # heavy: pysnmp

    session: Session = await snmp_client.PysnmpSession.open(
        _engine_for(config, secrets, engines, snmp_client),
        snmp_client.auth_data(config, secrets),
        device.host, device.snmp_port,
        timeout=per_try, retries=config.retries, context=config.context, max_rows=config.max_rows,
    )  # fmt: skip
    return session


async def _read_interfaces(session: Any) -> dict[str, Any]:
    if_table = await session.walk(oids.IF_TABLE)
    if not any(if_table.values()):
        return {"interfaces": ()}
    ifx_table = await session.walk(oids.IFX_TABLE)
    # 64-bit counters and ifHighSpeed make the 32-bit columns redundant: skip them when every
    # interface has them (a quarter fewer values to fetch and decode).
    rows = set(if_table.get("oper_status", {})) | set(if_table.get("descr", {}))
    has = [set(ifx_table.get(c, {})) >= rows for c in ("hc_in_octets", "hc_out_octets", "high_speed")]
    if not all(has):
        if_table.update(await session.walk(oids.IF_TABLE_32BIT))
    return {"interfaces": parsers.parse_interfaces(if_table, ifx_table)}


async def _read_host(session: Any) -> dict[str, Any]:
    cpu = await session.walk(oids.HR_PROCESSOR)
    storage = await session.walk(oids.HR_STORAGE)
    return {"cpu_load_ratios": parsers.parse_processors(cpu), "storage": parsers.parse_storage(storage)}


async def _read_ups(session: Any) -> dict[str, Any]:
    scalars = await session.get(oids.UPS_SCALARS)
    inputs = await session.walk(oids.UPS_INPUT)
    outputs = await session.walk(oids.UPS_OUTPUT)
    alarms = await session.walk(oids.UPS_ALARM)
    return {"ups": parsers.parse_ups(scalars, _nonempty(inputs), _nonempty(outputs), alarms)}


async def _read_sensors(session: Any) -> dict[str, Any]:
    entity = await session.walk(oids.ENTITY_SENSOR)
    found: tuple[Sensor, ...] = ()
    if any(entity.values()):
        names = await session.walk(oids.ENTITY_NAME)
        found = parsers.parse_entity_sensors(entity, names)
    apc = await session.walk(oids.APC_UIO_SENSOR)
    return {"sensors": found + parsers.parse_apc_uio(apc)}


async def _read_entity(session: Any) -> dict[str, Any]:
    return {"hardware": parsers.parse_entity_physical(await session.walk(oids.ENTITY_PHYSICAL))}


_READERS: dict[str, Callable[[Any], Awaitable[dict[str, Any]]]] = {
    "entity": _read_entity,
    "interfaces": _read_interfaces,
    "host": _read_host,
    "ups": _read_ups,
    "sensors": _read_sensors,
}


def _engine_for(config: SnmpConfig, secrets: Credentials, engines: dict[Any, Any], client: Any) -> Any:
    """One SNMP engine per distinct v3 credential set (a USM user table holds one key per user
    name); all v2c devices share one engine."""
    if config.version == "2c":
        key: Any = "v2c"
    else:
        key = (config.user, config.auth_protocol, secrets.auth_key, config.priv_protocol, secrets.priv_key)
    engine = engines.get(key)
    if engine is None:
        engine = engines[key] = client.new_engine()
    return engine


def _silence(config: SnmpConfig) -> str:
    why = "device down, wrong address/port"
    if config.version == "2c":
        why += " or wrong community"
    else:
        why += " or a wrong SNMPv3 privacy key/protocol (the device drops what it cannot decrypt)"
    return f"no answer within {config.timeout:g}s: {why}"


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _nonempty(table: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in table.items() if v}
