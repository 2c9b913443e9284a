"""Disk health from SMART: smartmontools' `smartctl --json`, run through the Runner.

`read_smart(runner)` lists the disks with `smartctl --scan --json` and reads each with
`smartctl --json -a -d TYPE NAME`. What it gives per disk:

- `healthy`: the disk's own overall self-assessment (`smart_status.passed`, i.e. `smartctl -H`);
  None when smartctl could not get it (then the disk is in `errors`, never counted healthy);
- error counters: ATA attributes 5 (reallocated sectors), 197 (pending sectors), 198 (offline
  uncorrectable) and the ATA error log count; NVMe media errors and error-log entries; SCSI
  uncorrected read/write errors. Only the counters the disk reports are kept.

smartctl's exit status is a bit mask (smartctl(8), "RETURN VALUES"): bits 0-1 mean it could not
read the device at all (a parse error, the device would not open): an error for that disk.
Bit 2 (a SMART command failed) and bits 3-7 (failing, past thresholds, errors logged) still
come with a full JSON answer, which is read.

A host without smartctl, or whose disks smartctl cannot see (a virtual machine's virtio disk, a
loop device), has SMART *unavailable* (`SmartUnavailable`): neither healthy nor failing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

from collectors.host_platform import Unavailable
from collectors.system.runner import Runner
from common.errors import CommandError
from common.frozen import frozen

SMARTCTL = "smartctl"
TIMEOUT = 60.0  # one disk; a disk in standby spins up within this
_MAX_OUTPUT = 4 * 1024 * 1024
_UNREADABLE_BITS = 0b11  # smartctl: command line did not parse, or the device did not open
# ATA attribute id -> counter name (the smartctl_exporter and node-mixin names, shortened).
_ATA_COUNTERS = {5: "reallocated_sectors", 197: "pending_sectors", 198: "offline_uncorrectable"}


class SmartUnavailable(Unavailable):
    """No SMART reading on this host (smartctl missing, or no disk it can read)."""


@frozen
class DiskHealth:
    """One disk's SMART verdict, with the error counters smartctl reported."""

    device: str  # as smartctl names it: /dev/sda, /dev/nvme0
    protocol: str  # ATA, NVMe, SCSI
    model: str
    healthy: bool
    errors: Mapping[str, int] = field(default_factory=dict)  # counter name -> value


@frozen
class SmartReading:
    """The disks smartctl could read, and why each other one could not."""

    disks: tuple[DiskHealth, ...]
    errors: Mapping[str, str]  # device -> why it could not be read


def parse_smartctl(data: Mapping[str, Any]) -> DiskHealth:
    """One disk from `smartctl --json -a` output. ValueError when it holds no health verdict."""
    status = data.get("smartctl", {}).get("exit_status", 0)
    device = data.get("device", {})
    name = str(device.get("name") or "?")
    if not isinstance(status, int) or status & _UNREADABLE_BITS:
        raise ValueError(
            f"{name}: smartctl could not read the device (exit status {status}): {_messages(data)}"
        )
    passed = data.get("smart_status", {}).get("passed")
    if not isinstance(passed, bool):
        raise ValueError(f"{name}: smartctl gave no health verdict (smart_status.passed): {_messages(data)}")
    counters: dict[str, int] = {}
    for attr in data.get("ata_smart_attributes", {}).get("table", ()):
        counter = _ATA_COUNTERS.get(attr.get("id"))
        raw = attr.get("raw", {}).get("value")
        if counter is not None and isinstance(raw, int):
            counters[counter] = raw
    ata_log = data.get("ata_smart_error_log", {}).get("summary", {}).get("count")
    if isinstance(ata_log, int):
        counters["error_log_entries"] = ata_log
    nvme = data.get("nvme_smart_health_information_log", {})
    for key, counter in (("media_errors", "media_errors"), ("num_err_log_entries", "error_log_entries")):
        if isinstance(nvme.get(key), int):
            counters[counter] = nvme[key]
    scsi = data.get("scsi_error_counter_log", {})
    uncorrected = [scsi.get(op, {}).get("total_uncorrected_errors") for op in ("read", "write")]
    if any(isinstance(v, int) for v in uncorrected):
        counters["uncorrected_errors"] = sum(v for v in uncorrected if isinstance(v, int))
    model = data.get("model_name") or data.get("scsi_model_name") or data.get("model_family") or ""
    return DiskHealth(name, str(device.get("protocol") or ""), str(model), passed, counters)


def _messages(data: Mapping[str, Any]) -> str:
    msgs = data.get("smartctl", {}).get("messages", ())
    return "; ".join(str(m.get("string", "")) for m in msgs if isinstance(m, Mapping)) or "no message"


def _run_json(runner: Runner, argv: Sequence[str]) -> dict[str, Any]:
    try:
        result = runner.run(argv, timeout=TIMEOUT, max_output=_MAX_OUTPUT)
    except CommandError as exc:
        raise SmartUnavailable(f"smartctl cannot be run ({exc}); install smartmontools") from exc
    if result.timed_out or result.truncated:
        raise ValueError(f"{' '.join(argv)}: no complete answer within {TIMEOUT:g} s")
    try:
        data = json.loads(result.stdout)
    except ValueError as exc:
        raise ValueError(f"{' '.join(argv)}: not JSON ({exc}); {result.stderr_tail(200)}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{' '.join(argv)}: not a JSON object")
    return data


def scan(runner: Runner) -> list[tuple[str, str]]:
    """(name, type) of each disk `smartctl --scan` finds; SmartUnavailable when none."""
    data = _run_json(runner, (SMARTCTL, "--scan", "--json"))
    found = [
        (str(d["name"]), str(d.get("type") or "auto"))
        for d in data.get("devices", ())
        if isinstance(d, Mapping) and d.get("name")
    ]
    if not found:
        raise SmartUnavailable("smartctl --scan finds no disk it can read (a virtual or loop disk?)")
    return found


def read_smart(runner: Runner, devices: Sequence[tuple[str, str]] | None = None) -> SmartReading:
    """Every disk's health; `devices` (name, type) skips the scan. SmartUnavailable, see above."""
    disks, errors = [], {}
    for name, kind in scan(runner) if devices is None else devices:
        try:
            disks.append(parse_smartctl(_run_json(runner, (SMARTCTL, "--json", "-a", "-d", kind, name))))
        except (ValueError, TypeError, AttributeError) as exc:
            errors[name] = str(exc)
    return SmartReading(tuple(disks), errors)
