"""USB storage recorded the moment it is plugged in (USB-3): the daemon's uevent listener.

On Linux the daemon starts one thread (collectors/system/linux/uevent.py) blocked on the
kernel's uevent netlink socket; each USB mass-storage interface added or removed makes it read
sysfs and record the change through the `usb_watch` code (journal, archive, USB history), with
`via: "uevent"`. The `usb_watch` job keeps sampling as a fallback (a listener that could not
start, events dropped by the kernel); the two share one stored set, so nothing is recorded
twice. Off elsewhere (Windows reads the Kernel-PnP log from the job) and with
`access_log.usb_listener: false`.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

from agent.state import State

log = logging.getLogger(__name__)


def start(enabled: bool, state: State, state_dir: Path, root: str = "/", sock: Any = None) -> Any:
    """The running listener (call `.stop()` on it), or None where there is none."""
    if not enabled or not sys.platform.startswith("linux"):
        return None
    from collectors.system.linux import uevent

    def on_change(event: uevent.Uevent) -> None:
        # loaded at the first USB event: the journal, the access-log archive and the USB reader
        # are not held by a daemon that sees none
        from agent.actions.usb_watch import read_attached, record_changes
        from agent.journal import Journal

        kinds = record_changes(state, Journal(state_dir), read_attached(root), time.time(), via="uevent")
        for kind in kinds:
            log.info("USB storage: %s (%s %s)", kind, event.action, event.devpath)

    try:
        return uevent.Listener(on_change, sock).start()
    except OSError as exc:  # no netlink (a container without it): the job's sampling remains
        log.warning("USB listener not started (%s): USB storage is sampled by the usb_watch job", exc)
        return None
