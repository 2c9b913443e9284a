"""Run by test_usb_uevent.py in a child process: enter a NEW network namespace (so nothing sent
here reaches the host's udev or any other listener), start the daemon's USB listener on a real
netlink uevent socket against a fixture sysfs, send it one uevent in the kernel's format from a
second netlink socket, and print what was recorded. argv: fixture root, state dir."""

from __future__ import annotations

import ctypes
import json
import socket
import sys
import time
from pathlib import Path

from agent.journal import Journal
from agent.state import State
from agent.usb_listener import start

CLONE_NEWNET = 0x40000000
MESSAGE = (  # udevadm monitor --kernel --property, for a USB stick's storage interface, as bytes
    b"add@/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0\0ACTION=add\0"
    b"DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0\0SUBSYSTEM=usb\0DEVTYPE=usb_interface\0"
    b"PRODUCT=951/1666/1\0TYPE=0/0/0\0INTERFACE=8/6/80\0"
    b"MODALIAS=usb:v0951p1666d0001dc00dsc00dp00ic08isc06ip50in00\0SEQNUM=4711\0"
)


def main() -> None:
    root, state_dir = sys.argv[1], Path(sys.argv[2])
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        print(json.dumps({"skip": f"unshare(CLONE_NEWNET) failed: errno {ctypes.get_errno()}"}))
        return
    state = State.open(state_dir)
    listener = start(True, state, state_dir, root)
    sender = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)  # type: ignore[attr-defined]
    sender.bind((0, 0))
    sender.sendto(MESSAGE, (0, 1))
    journal = Journal(state_dir)
    deadline = time.monotonic() + 30  # a wait for the thread, not a speed assertion
    while time.monotonic() < deadline and not list(journal.entries()):
        time.sleep(0.05)
    listener.stop()
    print(
        json.dumps(
            {"received": listener.received, "entries": [[e.kind, dict(e.data)] for e in journal.entries()]}
        )
    )


if __name__ == "__main__":
    main()
