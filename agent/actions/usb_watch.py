"""The `usb_watch` job: USB storage recorded as it happens (ROOM-5, USB-3).

The audit samples the USB storage devices every audit run; a stick plugged in and out between
two runs was never seen. This job reads only which USB storage devices are attached (Linux:
sysfs, a few small files; Windows: the disk driver's list of present disks in the registry,
through winreg), every few seconds, and on each change:

- journals `usb.connected` / `usb.disconnected` with vendor, product and serial number;
- merges the device into the USB history the audit keeps (first seen, last seen), which the
  asset register (`hostward inventory`) lists; a disconnection sets its last seen.

It writes to the state only when something changed. What it reads decides nothing: an empty
reading means no USB storage attached (the checks of USB-1 stay the audit's business).
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from typing import Any

from agent.actions.audit import merge_usb_devices
from agent.actions.base import JobContext, JobOutcome
from agent.journal import Journal, JournalError
from agent.state import State

PRESENT_KEY = "usb_watch.present"
_FIELDS = ("vendor", "product", "serial")


def read_attached(root: str = "/") -> list[dict[str, str]]:
    """The USB storage devices attached now (vendor, product, serial)."""
    if sys.platform == "win32" and root in ("/", ""):  # pragma: no cover - Windows only
        from collectors.system.windows import inventory, registry

        return inventory.read_present_usb_storage(registry.local_reader())
    from collectors.system.linux import usb

    return [{k: asdict(d)[k] for k in _FIELDS} for d in usb.read_usb_storage_devices(root)]


def _key(device: dict[str, Any]) -> str:
    return "|".join(str(device.get(k, "")) for k in _FIELDS)


def record_changes(state: State, journal: Journal, attached: list[dict[str, str]], now: float) -> list[str]:
    """Compare with the devices attached last time; journal and merge the changes. Returns the
    journal kinds written, in order."""
    before: dict[str, Any] = dict(state.get(PRESENT_KEY) or {})
    now_present = {_key(d): d for d in attached}
    if now_present.keys() == before.keys():
        return []
    written = []
    gone = [before[k] for k in sorted(before.keys() - now_present.keys())]
    came = [now_present[k] for k in sorted(now_present.keys() - before.keys())]
    merge_usb_devices(state, [*gone, *came], now)  # first seen on arrival, last seen on leaving
    for kind, devices in (("usb.connected", came), ("usb.disconnected", gone)):
        for device in devices:
            try:
                journal.append(kind, {k: device.get(k, "") for k in _FIELDS})
                written.append(kind)
            except JournalError:  # a side channel: the history is kept even so
                pass
    state.put(PRESENT_KEY, now_present)
    return written


def usb_watch_job(ctx: JobContext) -> JobOutcome:
    return watch_once(ctx)


def watch_once(ctx: JobContext, root: str = "/") -> JobOutcome:
    """One look (tests pass a fixture root)."""
    for kind in record_changes(ctx.state, Journal(ctx.state_dir), read_attached(root), time.time()):
        ctx.log.info("USB storage: %s", kind)
    return JobOutcome(success=True)
