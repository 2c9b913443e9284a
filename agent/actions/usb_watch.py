"""The `usb_watch` job: USB storage recorded as it happens (ROOM-5, USB-3).

The audit samples the USB storage devices every audit run; a stick plugged in and out between
two runs was never seen. This job reads only which USB storage devices are attached (Linux:
sysfs, a few small files; Windows: the disk driver's list of present disks in the registry,
through winreg), every few seconds, and on each change:

- journals `usb.connected` / `usb.disconnected` with vendor, product and serial number;
- merges the device into the USB history the audit keeps (first seen, last seen), which the
  asset register (`hostward inventory`) lists; a disconnection sets its last seen.

Each change is recorded with its time, the user(s) logged in then (psutil.users()) and how it
was seen (`via`: "uevent" from the daemon's netlink listener, agent/usb_listener.py, the moment
it happens; "poll" from this job; "event-log" from the Windows Kernel-PnP log), in the journal
and in the access-log archive (kind "usb"). The listener and this job compare against the same
stored set under one lock, so a device seen by both is recorded once.

It writes to the state only when something changed. What it reads decides nothing: an empty
reading means no USB storage attached (the checks of USB-1 stay the audit's business).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from agent.access.archive import Archive, ArchiveError
from agent.actions.base import JobContext, JobOutcome
from agent.journal import Journal, JournalError
from agent.records.key_updates import merge_usb_devices
from agent.state import State
from collectors.access import AccessEvent
from collectors.system import filelock
from collectors.system.runner import Runner, SubprocessRunner
from collectors.system.windows.pnp_log import Insertion
from common.errors import HostwardError

# The set attached at the last look: read, compared and written back only under LOCK_FILE (the
# job in its worker and the daemon's listener take it), so a plain put() loses nothing; the
# lock also covers the journal entries, which no state transaction could.
PRESENT_KEY = "usb_watch.present"
# The Kernel-PnP log's bookmark: one writer (this job; the scheduler never runs it twice at
# once) that only overwrites it.
PNP_KEY = "usb_watch.pnp_bookmark"
LOCK_FILE = "usb_watch.lock"
_FIELDS = ("vendor", "product", "serial")


def logged_in_users() -> list[str]:
    """The users with a session now (sorted, unique); [] when it cannot be told."""
    import psutil

    try:
        return sorted({u.name for u in psutil.users() if u.name})
    except (OSError, RuntimeError):
        return []


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    fd = os.open(Path(state_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
    try:
        filelock.lock(fd)
        yield
    finally:
        os.close(fd)


def read_attached(root: str = "/") -> list[dict[str, str]]:
    """The USB storage devices attached now (vendor, product, serial)."""
    if sys.platform == "win32" and root in ("/", ""):  # pragma: no cover - Windows only
        from collectors.system.windows import inventory, registry

        return inventory.read_present_usb_storage(registry.local_reader())
    from collectors.system.linux import usb

    return [{k: asdict(d)[k] for k in _FIELDS} for d in usb.read_usb_storage_devices(root)]


def _key(device: dict[str, Any]) -> str:
    return "|".join(str(device.get(k, "")) for k in _FIELDS)


def record_changes(
    state: State,
    journal: Journal,
    attached: list[dict[str, str]],
    now: float,
    *,
    via: str = "poll",
    users: list[str] | None = None,
) -> list[str]:
    """Compare with the devices attached last time; journal, archive and merge the changes.
    Returns the journal kinds written, in order."""
    with _locked(journal.dir):
        return _record(state, journal, attached, now, via, users)


def _record(
    state: State,
    journal: Journal,
    attached: list[dict[str, str]],
    now: float,
    via: str,
    users: list[str] | None,
) -> list[str]:
    before: dict[str, Any] = dict(state.get(PRESENT_KEY) or {})
    now_present = {_key(d): d for d in attached}
    if now_present.keys() == before.keys():
        return []
    gone = [before[k] for k in sorted(before.keys() - now_present.keys())]
    came = [now_present[k] for k in sorted(now_present.keys() - before.keys())]
    merge_usb_devices(state, [*gone, *came], now)  # first seen on arrival, last seen on leaving
    changes = [("usb.connected", d, now) for d in came] + [("usb.disconnected", d, now) for d in gone]
    written = _write(state, journal, changes, via, users)
    state.put(PRESENT_KEY, now_present)
    return written


def _write(
    state: State,
    journal: Journal,
    changes: list[tuple[str, dict[str, Any], float]],
    via: str,
    users: list[str] | None,
) -> list[str]:
    """Journal and archive each (kind, device, time); the kinds journaled."""
    who = logged_in_users() if users is None else users
    events, written = [], []
    for kind, device, when in changes:
        data = {k: str(device.get(k, "")) for k in _FIELDS}
        events.append(AccessEvent(when, "usb", ",".join(who), via, kind.split(".")[1], "", data))
        try:
            journal.append(kind, {**data, "time": when, "users": who, "via": via})
            written.append(kind)
        except JournalError:  # a side channel: the history is kept even so
            pass
    try:
        Archive(journal.dir).append(events, time.time())
        from agent.actions.access_log import add_totals

        add_totals(state, events)
    except ArchiveError:
        pass  # the journal holds it; the history too
    return written


def record_insertions(
    state: State,
    journal: Journal,
    found: list[Insertion],
    attached: list[dict[str, str]],
    users: list[str] | None = None,
) -> list[str]:
    """Insertions read from the Windows Kernel-PnP log, at their own time. One already in the
    stored set (the sampling saw it first) is not recorded again; one still attached joins the
    set, so the sampling does not record it again either."""
    with _locked(journal.dir):
        present: dict[str, Any] = dict(state.get(PRESENT_KEY) or {})
        attached_keys = {_key(d) for d in attached}
        changes = []
        for insertion in found:
            device = insertion.device()
            key = _key(device)
            if key in present:
                continue
            merge_usb_devices(state, [device], insertion.ts)
            changes.append(("usb.connected", device, insertion.ts))
            if key in attached_keys:
                present[key] = device
        written = _write(state, journal, changes, "event-log", users) if changes else []
        state.put(PRESENT_KEY, present)
        return written


def usb_watch_job(ctx: JobContext) -> JobOutcome:
    return watch_once(ctx)


def watch_once(ctx: JobContext, root: str = "/", pnp_runner: Runner | None = None) -> JobOutcome:
    """One look (tests pass a fixture root). On Windows (or with `pnp_runner`, a test's replay of
    recorded PowerShell output) the Kernel-PnP log is read first, after its bookmark: a stick
    plugged in and out between two looks is recorded at the time it came."""
    attached = read_attached(root)
    journal = Journal(ctx.state_dir)
    error = ""
    if pnp_runner is None and sys.platform == "win32" and root in ("/", ""):  # pragma: no cover
        pnp_runner = SubprocessRunner()
    if pnp_runner is not None:
        from collectors.system.windows import pnp_log

        try:
            found, bookmark = pnp_log.read_insertions(pnp_runner, int(ctx.state.get(PNP_KEY) or 0))
        except HostwardError as exc:  # the sampling below still runs
            error = f"Kernel-PnP log: {exc}"
        else:
            for kind in record_insertions(ctx.state, journal, found, attached):
                ctx.log.info("USB storage (event log): %s", kind)
            ctx.state.put(PNP_KEY, bookmark)
    for kind in record_changes(ctx.state, journal, attached, time.time()):
        ctx.log.info("USB storage: %s", kind)
    return JobOutcome(success=True, error=error, partial=bool(error))
