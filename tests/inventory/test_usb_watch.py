"""USB storage recorded as it happens (the `usb_watch` job): a hand-written sysfs tree where a
stick is plugged in and pulled out between two audits, and the Windows disk driver's list of
present disks (a hand-written registry value list in the layout Windows writes)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import pytest
from inventory_kit import write

from agent.actions.audit import USB_KEY
from agent.actions.base import JobContext
from agent.actions.inventory import perform_inventory
from agent.actions.usb_watch import watch_once
from agent.config import load_config
from agent.journal import Journal
from agent.state import State
from collectors.system.windows.inventory import parse_disk_enum
from collectors.system.windows.registry import REG_DWORD, REG_SZ, RegValue

STICK = {"idVendor": "0951", "idProduct": "1666", "manufacturer": "Kingston", "product": "DataTraveler 3.0",
         "serial": "E0D55EA573DCF450E97C104A"}  # fmt: skip


def plug(root: Path, port: str = "1-1") -> None:
    for name, value in STICK.items():
        write(root, f"/sys/bus/usb/devices/{port}/{name}", f"{value}\n")
    write(root, f"/sys/bus/usb/devices/{port}:1.0/bInterfaceClass", "08\n")


def unplug(root: Path, port: str = "1-1") -> None:
    for entry in (port, f"{port}:1.0"):
        shutil.rmtree(root / "sys/bus/usb/devices" / entry)


@pytest.fixture
def ctx(tmp_path: Path) -> JobContext:
    path = tmp_path / "hostward.yaml"
    path.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    loaded = load_config(str(path))
    return JobContext(loaded.config, State.open(loaded.state_dir), loaded.state_dir, time.monotonic() + 60,
                      threading.Event(), logging.getLogger("t"))  # fmt: skip


def test_a_stick_plugged_in_and_out_between_audits_is_journaled_and_registered(
    ctx: JobContext, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    write(root, "/sys/bus/usb/devices/usb1/idVendor", "1d6b\n")  # the root hub: not storage
    watch_once(ctx, str(root))
    journal = Journal(ctx.state_dir)
    assert list(journal.entries()) == []  # nothing attached, nothing written
    plug(root)
    watch_once(ctx, str(root))
    watch_once(ctx, str(root))  # still there: nothing new
    unplug(root)
    watch_once(ctx, str(root))
    entries = list(journal.entries())
    assert [e.kind for e in entries] == ["usb.connected", "usb.disconnected"]
    assert {k: entries[0].data[k] for k in ("vendor", "product", "serial", "via")} == {
        "vendor": "Kingston", "product": "DataTraveler 3.0", "serial": "E0D55EA573DCF450E97C104A",
        "via": "poll"}  # fmt: skip
    assert isinstance(entries[0].data["users"], list) and entries[0].data["time"] > 0
    (seen,) = (ctx.state.get(USB_KEY) or {}).values()
    assert seen["serial"] == "E0D55EA573DCF450E97C104A"
    assert seen["first_seen"] <= seen["last_seen"]
    usb = perform_inventory(ctx.config, ctx.state, str(tmp_path / "empty")).to_payload()["sections"]
    assert usb["usb_storage"]["status"] == "unavailable"  # an offline root has no history of this host
    live = perform_inventory(ctx.config, ctx.state).to_payload()["sections"]["usb_storage"]
    assert [u["serial"] for u in live["items"]] == ["E0D55EA573DCF450E97C104A"]


def test_the_windows_disk_list_gives_the_usb_sticks_present_by_the_names_the_audit_uses() -> None:
    values = {  # HKLM\SYSTEM\CurrentControlSet\Services\disk\Enum, as Windows writes it
        "0": RegValue(REG_SZ, r"SCSI\Disk&Ven_NVMe&Prod_PC300_NVMe_SK_hy\5&6ff0b86&0&000000"),
        "1": RegValue(
            REG_SZ, r"USBSTOR\Disk&Ven_Kingston&Prod_DataTraveler_3.0&Rev_PMAP\E0D55EA573DCF450E97C104A&0"
        ),
        "Count": RegValue(REG_DWORD, 2),
        "NextInstance": RegValue(REG_DWORD, 2),
    }
    assert parse_disk_enum(values) == [
        {"vendor": "Kingston", "product": "DataTraveler 3.0", "serial": "E0D55EA573DCF450E97C104A"}
    ]
    assert parse_disk_enum({"Count": RegValue(REG_DWORD, 0)}) == []
