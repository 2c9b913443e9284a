"""The machine-room devices' hardware register (ROOM-5) over SNMP, ENTITY-MIB entPhysicalTable:
a recorded Cisco Catalyst 3750 stack on snmpsim (data/snmprec/SOURCES.md), Debian snmpd (which
has no entPhysicalTable: registered by its system group) and a device that does not answer."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from devices_kit import Snmpd, Snmpsim

from agent.actions.base import JobContext
from agent.actions.inventory import record_inventory
from agent.config import load_config
from agent.exporter.families_inventory import inventory_families
from agent.state import State
from collectors.devices.config import DeviceConfig, SnmpConfig
from collectors.inventory.devices import device_register
from collectors.inventory.diff import changes
from collectors.system.runner import SubprocessRunner


def v2c(name: str, port: int, community_file: str, timeout: float = 2) -> DeviceConfig:
    snmp = SnmpConfig(version="2c", community_file=community_file, timeout=timeout)  # type: ignore[arg-type]
    return DeviceConfig(name, "switch", f"127.0.0.1:{port}", site="room-1", snmp=snmp)  # type: ignore[arg-type]


def test_a_recorded_cisco_stack_registers_its_chassis_module_and_power_supply_with_serials(
    snmpsim: Snmpsim, snmpd: Snmpd
) -> None:
    cisco = v2c("core-switch", snmpsim.ports[0], str(snmpsim.community_dir / "cisco-3750-stack"))
    plain = v2c("lab-router", snmpd.port, snmpd.community_file)
    section = device_register([cisco, plain])
    assert section.status == "ok", section.en
    parts = {(p.device, p.index): p for p in section.items}
    chassis = parts[("core-switch", "3001")]
    assert (chassis.klass, chassis.model, chassis.serial, chassis.hardware_rev, chassis.software_rev) == (
        "chassis", "WS-C3750-48PS-S", "CAT0952N20R", "V05", "12.2(55)SE10")  # fmt: skip
    assert parts[("core-switch", "3003")].klass == "power_supply"
    assert parts[("core-switch", "3003")].serial == "LIT095000BE"
    assert parts[("core-switch", "1")].klass == "stack"
    assert parts[("core-switch", "3002")].klass == "module"
    # the fan (no serial) and the ports are not assets of the register
    assert sorted(i for d, i in parts if d == "core-switch") == ["1", "3001", "3002", "3003"]
    # net-snmp has no entPhysicalTable: the device is registered by its system group, no serial
    router = parts[("lab-router", "0")]
    assert (router.klass, router.name, router.serial) == ("system", "lab-router", "")
    assert router.descr  # sysDescr


def test_a_device_that_does_not_answer_is_an_error_and_is_not_taken_for_removed_parts(
    snmpsim: Snmpsim, blackhole: int
) -> None:
    cisco = v2c("core-switch", snmpsim.ports[0], str(snmpsim.community_dir / "cisco-3750-stack"))
    dead = v2c("dead-switch", blackhole, str(snmpsim.community_dir / "cisco-3750-stack"), timeout=1)
    both = device_register([cisco, dead])
    assert both.status == "error"
    assert "dead-switch" in both.en and "dead-switch" in both.zh
    assert {p.device for p in both.items} == {"core-switch"}

    def payload(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"sections": {"devices": {"status": "ok", "items": items}}}

    alive = [p.__dict__ for p in both.items]
    before = payload([*alive, {"device": "dead-switch", "index": "3001", "serial": "X1", "klass": "chassis"}])
    assert changes(before, payload(alive)) == []  # down today, not removed
    swapped = [dict(p, serial="FOC9999X1") if p["index"] == "3003" else p for p in alive]
    module_gone = [p for p in alive if p["index"] != "3002"]
    assert [(c.kind, c.item, c.before, c.after) for c in changes(payload(alive), payload(swapped))] == [
        ("serial", "core-switch 3003", "LIT095000BE", "FOC9999X1")
    ]
    gone = changes(payload(alive), payload(module_gone))
    assert [(c.kind, c.item) for c in gone] == [("device", "core-switch 3002")]


def test_the_inventory_job_keeps_the_device_register_and_exports_each_chassis(
    snmpsim: Snmpsim, tmp_path: Path
) -> None:
    community = snmpsim.community_dir / "cisco-3750-stack"
    config = tmp_path / "hostward.yaml"
    config.write_text(
        f"version: 1\nstate_dir: {tmp_path / 'state'}\ndevices:\n  - name: core-switch\n    kind: switch\n"
        f'    address: "127.0.0.1:{snmpsim.ports[0]}"\n'
        f'    snmp: {{version: "2c", community_file: {community}, timeout: 2s}}\n',
        encoding="utf-8",
    )
    loaded = load_config(str(config))
    state = State.open(loaded.state_dir)
    ctx = JobContext(loaded.config, state, loaded.state_dir, time.monotonic() + 60, threading.Event(),
                     logging.getLogger("t"))  # fmt: skip
    record_inventory(ctx, "/", SubprocessRunner())  # the live host: its devices are in its config
    record = state.snapshot().records.get("inventory")
    assert record is not None and record.payload["sections"]["devices"]["status"] == "ok"
    info = [m for m in inventory_families(state.snapshot()) if m.name == "hostward_device_info"]
    assert [s.labels for s in info[0].samples] == [
        {"device": "core-switch", "vendor": "", "model": "WS-C3750-48PS-S", "serial": "CAT0952N20R"}
    ]
    (tmp_path / "image").mkdir()  # an offline image is read without this host's devices
    record_inventory(ctx, str(tmp_path / "image"), SubprocessRunner())
    record = state.snapshot().records.get("inventory")
    assert record is not None and "devices" not in record.payload["sections"]
