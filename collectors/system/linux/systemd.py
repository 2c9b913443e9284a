"""systemd's view of the host: failed units and whether the clock is NTP-synchronised.

- `failed_units(runner)`: `systemctl list-units --state=failed --output=json`, a JSON array of
  objects keyed by the lower-cased column names (unit, load, active, sub, description);
- `ntp_synchronized(runner)`: `timedatectl show -p NTPSynchronized --value`, "yes" or "no"
  (systemd-timesyncd, chrony and ntpd all set the kernel's synchronised flag it reports).

A host not run by systemd (a container, WSL1, a chroot: "System has not been booted with
systemd as init system", "Failed to connect to bus") or without the tool has the part
*unavailable* (`SystemdUnavailable`). Output that is not what the tool writes is a ValueError:
an error, never "no failed unit" or "synchronised".
"""

from __future__ import annotations

import json

from collectors.host_platform import Unavailable
from collectors.system.runner import CommandResult, Runner
from common.errors import CommandError

TIMEOUT = 20.0
MAX_UNITS = 50  # failed units reported by name at most (a broken host must not flood the metrics)
_NO_SYSTEMD = ("has not been booted with systemd", "Failed to connect to bus", "Host is down")


class SystemdUnavailable(Unavailable):
    """This host is not run by systemd, or lacks systemctl/timedatectl."""


def _run(runner: Runner, argv: tuple[str, ...]) -> CommandResult:
    try:
        result = runner.run(argv, timeout=TIMEOUT, max_output=4 * 1024 * 1024)
    except CommandError as exc:
        raise SystemdUnavailable(f"{argv[0]} cannot be run: {exc}") from exc
    if result.timed_out or result.truncated:
        raise ValueError(f"{argv[0]}: no complete answer within {TIMEOUT:g} s")
    if not result.ok:
        tail = result.stderr_tail(300)
        if any(mark in tail for mark in _NO_SYSTEMD):
            raise SystemdUnavailable(f"not run by systemd ({tail.splitlines()[0] if tail else argv[0]})")
        raise ValueError(f"{' '.join(argv)}: exit {result.returncode}: {tail or 'no message'}")
    return result


def parse_failed_units(stdout: bytes) -> tuple[str, ...]:
    """Names of the failed units in `systemctl list-units --output=json` output."""
    try:
        data = json.loads(stdout)
    except ValueError as exc:
        raise ValueError(f"systemctl list-units: not JSON ({exc})") from exc
    if not isinstance(data, list):
        raise ValueError("systemctl list-units: not a JSON array")
    failed = []
    for row in data:
        if not isinstance(row, dict):
            raise ValueError("systemctl list-units: a row is not an object")
        row = {str(k).lower(): v for k, v in row.items()}
        if not isinstance(row.get("unit"), str):
            raise ValueError("systemctl list-units: a row has no unit name")
        if row.get("active") == "failed":
            failed.append(row["unit"])
    return tuple(sorted(set(failed)))


def failed_units(runner: Runner) -> tuple[str, ...]:
    result = _run(runner, ("systemctl", "list-units", "--state=failed", "--output=json", "--no-pager"))
    return parse_failed_units(result.stdout)


def parse_ntp_synchronized(stdout: bytes) -> bool:
    text = stdout.decode("utf-8", "replace").strip()
    if text not in ("yes", "no"):
        raise ValueError(f"timedatectl NTPSynchronized: expected yes or no, got {text[:40]!r}")
    return text == "yes"


def ntp_synchronized(runner: Runner) -> bool:
    result = _run(runner, ("timedatectl", "show", "-p", "NTPSynchronized", "--value"))
    return parse_ntp_synchronized(result.stdout)
