"""A UPS read from Network UPS Tools' upsd over its TCP protocol (port 3493; RFC 9271).

One connection per poll: optionally USERNAME/PASSWORD (checked with LOGIN and LOGOUT, which a
user with `upsmon secondary` in upsd.users may do), then `LIST VAR <ups>`. The variables map
to the same `UpsStatus` as an SNMP UPS (UPS-MIB), so the metrics, the alerts and BAK-6 are the
same: ups.status OB is on battery, LB low battery.

Every failure is an error with its reason and the device counts as down (an outage), never as a
healthy UPS: upsd not reachable, a user/password refused, an unknown UPS name, stale data, a
driver not connected, an answer without ups.status. Answers are bounded (`MAX_ANSWER`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping

from collectors.devices.config import DeviceConfig
from collectors.devices.records import DeviceResult, UpsStatus
from common.secrets import SecretFileError, read_secret

MAX_ANSWER = 256 * 1024
_ERRORS = {
    "UNKNOWN-UPS": "upsd knows no UPS named {ups!r} (check ups.conf and nut.ups)",
    "ACCESS-DENIED": "upsd refused the user name or password (upsd.users; the user needs 'upsmon secondary')",
    "DATA-STALE": "upsd has no fresh data from the UPS driver (DATA-STALE): cable or driver",
    "DRIVER-NOT-CONNECTED": "the NUT driver of {ups!r} is not running (DRIVER-NOT-CONNECTED)",
    "USERNAME-REQUIRED": "upsd wants a user name (nut.username, nut.password_file)",
    "PASSWORD-REQUIRED": "upsd wants a password (nut.password_file)",
}
# ups.status words -> UPS-MIB well-known alarm names (oids.UPS_WELL_KNOWN_ALARMS)
_ALARMS = {"OB": "on_battery", "LB": "low_battery", "RB": "battery_bad", "OVER": "output_overload",
           "BYPASS": "on_bypass", "FSD": "shutdown_imminent", "OFF": "ups_output_off",
           "TEST": "test_in_progress"}  # fmt: skip


class NutError(Exception):
    """upsd could not give this UPS's status; the message says why."""


class _Lines:
    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline, self._buffer, self._total = sock, deadline, b"", 0

    def send(self, line: str) -> None:
        self._sock.settimeout(max(0.01, self._deadline - time.monotonic()))
        self._sock.sendall(line.encode("utf-8") + b"\n")

    def read(self) -> str:
        while b"\n" not in self._buffer:
            self._sock.settimeout(max(0.01, self._deadline - time.monotonic()))
            chunk = self._sock.recv(65536)
            if not chunk:
                raise NutError("upsd closed the connection in the middle of an answer")
            self._total += len(chunk)
            if self._total > MAX_ANSWER:
                raise NutError(f"upsd's answer is larger than {MAX_ANSWER} bytes")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "replace").rstrip("\r")


def read_vars(host: str, port: int, ups: str, *, username: str = "", password: str = "",
              timeout: float = 5.0) -> dict[str, str]:  # fmt: skip
    """{variable: value} of `ups` from upsd at host:port. Raises NutError."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            lines = _Lines(sock, deadline)
            if username:
                for command in (f"USERNAME {username}", f"PASSWORD {password}"):
                    lines.send(command)
                    _expect_ok(lines.read(), ups)
            lines.send(f"LIST VAR {ups}")
            variables = _list(lines, ups)
            if username:  # the password is only checked by a command that needs it
                lines.send(f"LOGIN {ups}")
                _expect_ok(lines.read(), ups)
                lines.send("LOGOUT")
            return variables
    except TimeoutError as exc:
        raise NutError(f"upsd at {host}:{port} did not answer within {timeout:g}s") from exc
    except OSError as exc:
        raise NutError(f"upsd not reachable at {host}:{port}: {exc.strerror or exc}") from exc


def _expect_ok(line: str, ups: str) -> None:
    if not line.startswith("OK"):
        raise NutError(_error(line, ups))


def _error(line: str, ups: str) -> str:
    if line.startswith("ERR "):
        code = line[4:].split(" ", 1)[0]
        return _ERRORS.get(code, f"upsd error {code}").format(ups=ups)
    return f"unexpected answer from upsd: {line[:80]!r}"


def _list(lines: _Lines, ups: str) -> dict[str, str]:
    first = lines.read()
    if first != f"BEGIN LIST VAR {ups}":
        raise NutError(_error(first, ups))
    variables: dict[str, str] = {}
    while True:
        line = lines.read()
        if line == f"END LIST VAR {ups}":
            return variables
        prefix = f"VAR {ups} "
        if not line.startswith(prefix):
            raise NutError(f"unexpected line in upsd's list: {line[:80]!r}")
        name, _, quoted = line[len(prefix) :].partition(" ")
        if len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
            raise NutError(f"unexpected value in upsd's list: {line[:80]!r}")
        variables[name] = quoted[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def ups_status(variables: Mapping[str, str]) -> UpsStatus:
    """The UPS-MIB view of NUT variables. Raises NutError without a usable ups.status."""
    words = variables.get("ups.status", "").split()
    if not words or not {"OL", "OB"} & set(words):
        raise NutError(f"upsd gives no usable ups.status ({variables.get('ups.status', 'absent')!r})")
    on_battery = "OB" in words
    source = "battery" if on_battery else "bypass" if "BYPASS" in words else "booster" if "BOOST" in words \
        else "reducer" if "TRIM" in words else "none" if "OFF" in words else "normal"  # fmt: skip
    charge, load = _number(variables, "battery.charge"), _number(variables, "ups.load")
    volts_in, volts_out = _number(variables, "input.voltage"), _number(variables, "output.voltage")
    return UpsStatus(
        on_battery=on_battery,
        output_source=source,
        battery_status="low" if "LB" in words else "normal",
        seconds_on_battery=None,  # NUT does not say
        runtime_seconds=_number(variables, "battery.runtime"),
        charge_ratio=charge / 100 if charge is not None else None,
        battery_temperature_celsius=_number(variables, "battery.temperature"),
        load_ratio=load / 100 if load is not None else None,
        input_voltage_volts=(volts_in,) if volts_in is not None else (),
        output_voltage_volts=(volts_out,) if volts_out is not None else (),
        alarms=tuple(_ALARMS[w] for w in words if w in _ALARMS),
    )


def _number(variables: Mapping[str, str], name: str) -> float | None:
    try:
        return float(variables[name])
    except (KeyError, ValueError):
        return None


def poll_nut(device: DeviceConfig) -> DeviceResult:
    """One NUT UPS as a DeviceResult: up with its UpsStatus, or down with the reason."""
    assert device.nut is not None
    started = time.monotonic()
    nut = device.nut
    try:
        password = read_secret(nut.password_file, "NUT password") if nut.password_file else ""
        variables = read_vars(device.host, device.nut_port, nut.ups, username=nut.username,
                              password=password, timeout=float(nut.timeout))  # fmt: skip
        status = ups_status(variables)
    except (NutError, SecretFileError) as exc:
        return DeviceResult(
            device.name, device.kind, device.site, False, str(exc), time.monotonic() - started
        )
    return DeviceResult(
        device.name, device.kind, device.site, True, "", time.monotonic() - started, ups=status
    )
