"""Kernel uevents (NETLINK_KOBJECT_UEVENT): know the moment a USB storage device comes or goes.

The kernel multicasts each uevent on group 1 of a netlink socket as `ACTION@DEVPATH\\0` followed
by `KEY=VALUE\\0` pairs (what `udevadm monitor --kernel --property` prints, one pair a line).
udev's re-broadcast on group 2 starts with `libudev\\0` and a binary header instead; it is not
read here (hosts without udev still get the kernel's events).

A uevent is only a trigger: a USB interface of class 8 (mass storage; `INTERFACE=8/6/80`) added
or removed makes the listener read sysfs again (collectors/system/linux/usb.py), and what is
recorded comes from sysfs, never from the message. So a message forged by another local process
(any root process may send on this group) can cause a re-read, not a false record.

The listener is a daemon thread blocked in recv(): no CPU and no wake-ups while nothing happens.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
from collections.abc import Callable, Mapping

from common.frozen import frozen

log = logging.getLogger(__name__)
NETLINK_KOBJECT_UEVENT = 15
KERNEL_GROUP = 1
RECV_BUFFER = 64 * 1024
STORAGE_INTERFACE = "8/"  # bInterfaceClass 8 in INTERFACE=class/subclass/protocol (decimal)
ACTIONS = frozenset({"add", "remove"})


@frozen
class Uevent:
    """One kernel uevent: its action (add, remove, ...), device path and environment."""

    action: str
    devpath: str
    env: Mapping[str, str]

    @property
    def subsystem(self) -> str:
        return self.env.get("SUBSYSTEM", "")


def parse(message: bytes) -> Uevent | None:
    """A kernel uevent, or None for anything else (udev's `libudev` messages, junk)."""
    parts = message.split(b"\0")
    header = parts[0].decode("utf-8", "replace")
    action, sep, devpath = header.partition("@")
    if not sep or not action or not devpath.startswith("/"):
        return None
    env = {}
    for raw in parts[1:]:
        key, eq, value = raw.decode("utf-8", "replace").partition("=")
        if eq and key:
            env[key] = value
    if env.get("ACTION", action) != action or env.get("DEVPATH", devpath) != devpath:
        return None  # the header and the body disagree: not the kernel's
    return Uevent(action, devpath, env)


def is_storage_change(event: Uevent) -> bool:
    """A USB mass-storage interface added or removed."""
    return (
        event.subsystem == "usb"
        and event.action in ACTIONS
        and event.env.get("DEVTYPE") == "usb_interface"
        and event.env.get("INTERFACE", "").startswith(STORAGE_INTERFACE)
    )


def open_socket(group: int = KERNEL_GROUP) -> socket.socket:
    """A netlink socket subscribed to the kernel's uevents (raises OSError where there is none)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((0, group))
    except OSError:
        sock.close()
        raise
    return sock


class Listener:
    """Calls `on_change(event)` from its own thread for each USB storage uevent.

    `received` counts every uevent parsed (of any device): a test can see real kernel messages
    arrive. `stop()` closes the socket and joins the thread."""

    def __init__(self, on_change: Callable[[Uevent], None], sock: socket.socket | None = None) -> None:
        self._sock = sock or open_socket()
        self._on_change = on_change
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()  # stop() writes a byte: no polling timeout
        self.received = 0
        self.thread = threading.Thread(target=self._run, name="usb-uevent", daemon=True)

    def start(self) -> Listener:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._sock.fileno(), self._wake_r], [], [])
                if self._wake_r in ready or self._stop.is_set():  # stop() was called
                    return
                data = self._sock.recv(RECV_BUFFER)
            except OSError as exc:
                if self._stop.is_set():
                    return
                if exc.errno == 105:  # ENOBUFS: the kernel dropped messages; re-read anyway
                    log.warning("usb listener: uevents were dropped (ENOBUFS); reading sysfs again")
                    self._fire(Uevent("add", "/", {"SUBSYSTEM": "usb"}))
                    continue
                log.error("usb listener stopped: %s", exc)
                return
            event = parse(data)
            if event is None:
                continue
            self.received += 1
            if is_storage_change(event):
                self._fire(event)

    def _fire(self, event: Uevent) -> None:
        try:
            self._on_change(event)
        except Exception:  # one bad reading must not end the listener
            log.exception("usb listener: recording a USB change failed")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self.thread.is_alive():
            self.thread.join(timeout)
        self._sock.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
