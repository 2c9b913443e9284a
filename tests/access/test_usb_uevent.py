"""USB storage recorded the moment it is plugged in (Linux uevents).

What is real and what is not:
- the uevent parser gets messages in the kernel's exact format (the ACTION@DEVPATH header and
  the KEY=VALUE pairs `udevadm monitor --kernel --property` prints for a USB stick's storage
  interface); no stick was plugged in to record them here (this machine has no USB bus);
- the listener's socket, thread and recv() are real: one test makes the real kernel send a real
  uevent (`change` written to /sys/class/net/lo/uevent, a harmless synthetic event) and sees it
  arrive; that event is not a USB one, so nothing is recorded;
- the end-to-end test sends a USB-interface uevent in the kernel's format on a real netlink
  socket inside a network namespace the test creates (no other listener can receive it); the
  device's attributes come from a fixture sysfs tree, as they would from /sys after a real add.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from collectors.system.linux import uevent

HERE = Path(__file__).parent
INTERFACE_ADD = (
    b"add@/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0\0ACTION=add\0"
    b"DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0\0SUBSYSTEM=usb\0DEVTYPE=usb_interface\0"
    b"PRODUCT=951/1666/1\0TYPE=0/0/0\0INTERFACE=8/6/80\0"
    b"MODALIAS=usb:v0951p1666d0001dc00dsc00dp00ic08isc06ip50in00\0SEQNUM=4711\0"
)
DEVICE_ADD = (
    b"add@/devices/pci0000:00/0000:00:14.0/usb1/1-1\0ACTION=add\0DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-1\0"
    b"SUBSYSTEM=usb\0MAJOR=189\0MINOR=1\0DEVNAME=bus/usb/001/002\0DEVTYPE=usb_device\0PRODUCT=951/1666/1\0"
    b"TYPE=0/0/0\0BUSNUM=001\0DEVNUM=002\0SEQNUM=4710\0"
)
KEYBOARD = INTERFACE_ADD.replace(b"INTERFACE=8/6/80", b"INTERFACE=3/1/1")
LINUX_ROOT = sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0


def test_a_usb_storage_interface_uevent_is_parsed_and_recognised() -> None:
    event = uevent.parse(INTERFACE_ADD)
    assert event is not None
    assert (event.action, event.subsystem, event.env["INTERFACE"]) == ("add", "usb", "8/6/80")
    assert uevent.is_storage_change(event)
    removed = uevent.parse(INTERFACE_ADD.replace(b"add", b"remove"))
    assert removed is not None and uevent.is_storage_change(removed)


def test_other_uevents_and_udev_messages_trigger_nothing() -> None:
    for message in (DEVICE_ADD, KEYBOARD):
        event = uevent.parse(message)
        assert event is not None and not uevent.is_storage_change(event)
    assert uevent.parse(b"libudev\0\xfe\xed\xca\xfe" + bytes(32)) is None
    assert (
        uevent.parse(b"add@/devices/x\0ACTION=remove\0DEVPATH=/devices/x\0") is None
    )  # header/body disagree
    assert uevent.parse(b"junk") is None


@pytest.mark.skipif(not LINUX_ROOT, reason="needs root on Linux to make the kernel send a uevent")
def test_the_listener_receives_a_real_kernel_uevent_and_records_nothing_for_a_non_usb_device() -> None:
    calls: list[uevent.Uevent] = []
    try:
        listener = uevent.Listener(calls.append).start()
    except OSError as exc:
        pytest.skip(f"no uevent netlink socket here: {exc}")
    try:
        Path("/sys/class/net/lo/uevent").write_text("change\n")
        deadline = time.monotonic() + 30  # waiting for the thread; not a speed assertion
        while listener.received == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listener.received >= 1
        assert calls == []
    finally:
        listener.stop()
    assert not listener.thread.is_alive()


@pytest.mark.skipif(not LINUX_ROOT, reason="needs root on Linux to create a network namespace")
def test_a_usb_stick_uevent_is_journaled_at_once_with_its_serial_and_the_poll_does_not_repeat_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    dev = root / "sys/bus/usb/devices"
    for name, value in {
        "idVendor": "0951",
        "idProduct": "1666",
        "manufacturer": "Kingston",
        "product": "DataTraveler 3.0",
        "serial": "E0D55EA573DCF450E97C104A",
    }.items():
        (dev / "1-1").mkdir(parents=True, exist_ok=True)
        (dev / "1-1" / name).write_text(f"{value}\n")
    (dev / "1-1:1.0").mkdir()
    (dev / "1-1:1.0/bInterfaceClass").write_text("08\n")
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    out = subprocess.run(
        [sys.executable, str(HERE / "uevent_child.py"), str(root), str(state_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if "skip" in result:
        pytest.skip(result["skip"])
    assert result["received"] == 1
    ((kind, data),) = result["entries"]
    assert kind == "usb.connected"
    assert (data["vendor"], data["product"], data["serial"], data["via"]) == (
        "Kingston",
        "DataTraveler 3.0",
        "E0D55EA573DCF450E97C104A",
        "uevent",
    )
    assert isinstance(data["users"], list)
    # the 10-second sampling (fallback) sees the same stick: nothing new is written
    import logging

    from agent.access.archive import Archive
    from agent.actions.base import JobContext
    from agent.actions.usb_watch import watch_once
    from agent.config import load_config
    from agent.journal import Journal
    from agent.state import State

    cfg = tmp_path / "hostward.yaml"
    cfg.write_text(f"version: 1\nstate_dir: {state_dir}\n", encoding="utf-8")
    loaded = load_config(str(cfg))
    ctx = JobContext(
        loaded.config,
        State.open(state_dir),
        state_dir,
        time.monotonic() + 60,
        threading.Event(),
        logging.getLogger("t"),
    )
    watch_once(ctx, str(root))
    assert [e.kind for e in Journal(state_dir).entries()] == ["usb.connected"]
    (archived,) = Archive(state_dir).read()
    assert (archived.kind, archived.source, archived.detail["serial"]) == (
        "usb",
        "uevent",
        "E0D55EA573DCF450E97C104A",
    )
