"""Host health that needs a program run, not a psutil call: SMART, failed units, clock sync.

Read by a job of its own (`host_health`, every few minutes), never per scrape: smartctl can take
seconds per disk. Each part is read on its own, like collectors/host.py: a part that failed is
in `errors`, a part the host does not provide (no smartctl, no systemd, Windows) is in
`unavailable` with the reason. Neither is ever reported as healthy.

Parts: "smart" (collectors/smart.py), "systemd_units" and "time_sync"
(collectors/system/linux/systemd.py); on Windows, where the systemd parts are unavailable,
"windows_services": automatic services not running (collectors/system/windows/stopped_services.py).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, field
from typing import Any, TypeVar

from collectors.host_platform import Unavailable
from collectors.smart import DiskHealth, read_smart
from collectors.system.files import SystemReadError
from collectors.system.linux import systemd
from collectors.system.runner import Runner
from common.frozen import frozen

_T = TypeVar("_T")
WINDOWS = sys.platform == "win32"


@frozen
class HostHealth:
    """One reading of the host's health (Unix time `taken`): disks' SMART, failed units or stopped
    services, clock synchronisation; what could not be read says why in `errors`/`unavailable`."""

    taken: float
    disks: tuple[DiskHealth, ...] = ()
    failed_units: tuple[str, ...] | None = None  # None: not known (see errors/unavailable)
    time_synchronized: bool | None = None
    stopped_services: tuple[str, ...] | None = None  # Windows: automatic services not running
    errors: Mapping[str, str] = field(default_factory=dict)  # part (or "smart:/dev/sdX") -> why
    unavailable: Mapping[str, str] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, p: Mapping[str, Any]) -> HostHealth:
        """The inverse of `to_payload`. Raises KeyError/TypeError on a malformed payload."""
        units, stopped = p["failed_units"], p.get("stopped_services")
        return cls(
            taken=float(p["taken"]),
            disks=tuple(
                DiskHealth(
                    str(d["device"]),
                    str(d["protocol"]),
                    str(d["model"]),
                    bool(d["healthy"]),
                    {str(k): int(v) for k, v in d["errors"].items()},
                )
                for d in p["disks"]
            ),
            failed_units=None if units is None else tuple(str(u) for u in units),
            time_synchronized=p["time_synchronized"],
            stopped_services=None if stopped is None else tuple(str(s) for s in stopped),
            errors=dict(p["errors"]),
            unavailable=dict(p["unavailable"]),
        )


def collect_host_health(runner: Runner, smart: bool = True, windows: bool = WINDOWS) -> HostHealth:
    """Read every part now. Never raises for one unreadable part."""
    errors: dict[str, str] = {}
    unavailable: dict[str, str] = {}

    def part(name: str, read: Callable[[], _T], empty: _T) -> _T:
        try:
            return read()
        except Unavailable as exc:
            unavailable[name] = str(exc)
        except (OSError, ValueError, TypeError, SystemReadError) as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
        return empty

    disks: tuple[DiskHealth, ...] = ()
    if smart:
        reading = part("smart", lambda: read_smart(runner), None)
        if reading is not None:
            disks = reading.disks
            errors.update({f"smart:{device}": why for device, why in reading.errors.items()})
    else:
        unavailable["smart"] = "disabled in the config (collect.smart: false)"
    units: tuple[str, ...] | None = None
    synced: bool | None = None
    stopped: tuple[str, ...] | None = None
    if windows:
        from collectors.system.windows.stopped_services import read_stopped_automatic  # Windows only

        unavailable["systemd_units"] = "Windows has no systemd"
        unavailable["time_sync"] = "not read on Windows (w32tm /query /status shows it)"
        stopped = part("windows_services", lambda: read_stopped_automatic(runner), None)
    else:
        units = part("systemd_units", lambda: systemd.failed_units(runner), None)
        synced = part("time_sync", lambda: systemd.ntp_synchronized(runner), None)
    return HostHealth(time.time(), disks, units, synced, stopped, errors, unavailable)
