"""The config schema: `version: 1` and its sections, documented field by field.

The same classes validate `/etc/hostward/hostward.yaml` and print `hostward config default`.
Sections owned by lower floors (backup, devices) are defined there and composed here.
On Windows the defaults and examples name Windows paths (C:\\ProgramData\\hostward).
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import sys
from collections.abc import Iterator
from pathlib import PureWindowsPath
from typing import Literal

from agent.config.limits import LimitsConfig
from agent.report.config import ReportConfig
from backup.config import BackupConfig
from collectors.devices.config import DeviceConfig, DevicesSchedule, TrapsConfig
from collectors.devices.rounds import round_problems
from common.frozen import frozen
from common.schema import Duration, setting
from common.schema.common import Schedule
from common.schema.fields import at_least, between
from policies.config import AuditConfig

Role = Literal[
    "office_pc", "manager_pc", "server", "insurance_terminal", "clinical_terminal", "isolated_store"
]
WINDOWS = sys.platform == "win32"
# Where the config and its secret files live; examples in `config default` use it.
CONFIG_DIR = "C:\\ProgramData\\hostward" if WINDOWS else "/etc/hostward"
_SEP = "\\" if WINDOWS else "/"
_BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")


def parse_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:9877' -> ('127.0.0.1', 9877); '[::1]:9877' -> ('::1', 9877). ValueError if bad."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError('must be "HOST:PORT", e.g. "127.0.0.1:9877" or "[::1]:9877"')
    host = host.removeprefix("[").removesuffix("]")
    if host not in ("", "localhost"):
        ipaddress.ip_address(host)  # raises ValueError for names: listen on addresses only
    return host, int(port)


def _check_listen(value: object) -> str | None:
    try:
        parse_listen(str(value))
    except ValueError as exc:
        return str(exc) if "HOST:PORT" in str(exc) else f"not an IP address: {exc}"
    return None


# Directories the state may not be (exact): the system's own, where chmod/rename would harm.
_SYSTEM_DIRS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media",
    "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/usr/bin",
    "/usr/lib", "/usr/local", "/usr/sbin", "/usr/share", "/var", "/var/lib", "/var/log",
    "/tmp", "/var/tmp",  # noqa: S108 - names refused here; no temporary file is made
})
_PSEUDO_DIRS = ("/proc", "/sys", "/dev", "/run")  # nothing below them may hold state either
_WINDOWS_DIRS = frozenset({
    "", "windows", "windows/system32", "windows/syswow64", "program files", "program files (x86)",
    "programdata", "users", "system volume information",
})


def state_dir_problem(value: str, windows: bool = sys.platform == "win32") -> str | None:
    """Why `value` cannot be the state directory, or None. Relative paths and system directories
    are refused: the agent (root/SYSTEM) creates, chmods and renames files there."""
    if not value:
        return None  # the platform's default
    if windows or re.match(r"^[A-Za-z]:", value):
        path = PureWindowsPath(value)
        if not path.is_absolute() or path.drive.startswith("\\\\"):
            return f"must be an absolute local path (e.g. C:\\ProgramData\\hostward), not {value!r}"
        rest = "/".join(path.parts[1:]).lower()
        if rest in _WINDOWS_DIRS or rest.startswith("windows/"):
            return f"{value!r} is a system directory; use one of its own, e.g. C:\\ProgramData\\hostward"
        return None
    if not value.startswith("/"):
        return f"must be an absolute path (e.g. /var/lib/hostward), not the relative {value!r}"
    norm = posixpath.normpath(value)
    norm = "/" if norm == "//" else norm
    if norm in _SYSTEM_DIRS or any(norm.startswith(p + "/") for p in _PSEUDO_DIRS):
        return f"{value!r} is a system directory; use a directory of its own, e.g. /var/lib/hostward"
    return None


def _check_state_dir(value: object) -> str | None:
    return state_dir_problem(str(value))


def _check_users(value: object) -> str | None:
    assert isinstance(value, dict)
    for user, hashed in value.items():
        if not _BCRYPT.match(hashed):
            return f"user {user!r}: not a bcrypt hash ($2b$...); make one with `hostward hash-password`"
    return None


@frozen
class HostConfig:
    """This machine: its role (which rules apply), site, name and labels for reports."""

    role: Role = setting(
        "office_pc",
        "What this machine is; decides which written rules apply:\n"
        "office_pc, manager_pc, server, insurance_terminal, clinical_terminal, isolated_store.",
    )
    site: str = setting("", "Site or building, e.g. main-building. Shown in reports and labels.")
    name: str = setting("", "Name in reports and metrics; empty means the system's hostname.")
    labels: dict[str, str] = setting(
        factory=dict, doc="Extra labels for reports, e.g. {department: finance}."
    )


@frozen
class TLSConfig:
    """HTTPS for the exporter: certificate, key, and the client CA when clients must authenticate."""

    cert_file: str = setting(doc="PEM certificate (chain) served to Prometheus.")
    key_file: str = setting(doc="PEM private key (mode 0600).")
    client_ca_file: str = setting("", "If set, clients must present a certificate signed by this CA.")
    min_version: Literal["TLS12", "TLS13"] = setting("TLS12", "Oldest TLS version accepted.")


@frozen
class ExporterConfig:
    """The /metrics endpoint and the status page: address, TLS, scrape users and request limits."""

    enabled: bool = setting(True, "Serve /metrics and the status page.")
    listen: str = setting(
        "127.0.0.1:9877",
        'Address to listen on, "HOST:PORT". Use the LAN address for a central Prometheus.',
        check=_check_listen,
    )
    tls: TLSConfig | None = setting(
        None,
        "Serve HTTPS (same meaning as Prometheus' exporter web config).",
        example=f"{{cert_file: {CONFIG_DIR}{_SEP}tls.crt, key_file: {CONFIG_DIR}{_SEP}tls.key}}",
    )
    basic_auth_users: dict[str, str] = setting(
        factory=dict,
        doc="Users allowed to scrape, with bcrypt hashes. Empty: no authentication.",
        example='{prometheus: "$2b$12$...bcrypt hash..."}',
        check=_check_users,
    )
    max_concurrent_requests: int = setting(
        8, "Requests served at once; more get 503 at once.", check=between(1, 256)
    )
    request_timeout: Duration = setting(
        Duration(10), "A client that has not sent its request by then is dropped.", check=at_least(1)
    )


@frozen
class CollectConfig:
    """Host-health collection: its schedules, sensors, SMART, and the filesystems left out."""

    schedule: Schedule = setting(
        factory=lambda: Schedule(every=Duration(15), timeout=Duration(10)),
        doc="Host-health collection.",
    )
    temperatures: bool = setting(True, "Read temperature and fan sensors where the host has them.")
    filesystem_types_exclude: tuple[str, ...] = setting(
        ("squashfs", "iso9660", "overlay", "tmpfs", "devtmpfs", "nsfs"),
        "Filesystem types not reported (pseudo filesystems are always skipped).",
    )
    mountpoints_exclude: tuple[str, ...] = setting(
        () if WINDOWS else ("/proc", "/sys", "/dev", "/run", "/snap", "/var/lib/docker"),
        "Mount points (and what is below them) not reported.",
    )
    health_schedule: Schedule = setting(
        factory=lambda: Schedule(every=Duration(300), jitter=Duration(30), timeout=Duration(300)),
        doc="Disk health (SMART), failed systemd units and clock synchronisation.",
    )
    smart: bool = setting(
        True,
        "Read disk health with smartctl (Debian: smartmontools). Without smartctl, or on disks it\n"
        "cannot read (virtual disks), SMART is reported unavailable, never healthy.",
    )


@frozen
class InventoryConfig:
    """The asset register (ROOM-5) and the watch for USB storage."""

    schedule: Schedule = setting(
        factory=lambda: Schedule(at="03:40", jitter=Duration(1800), timeout=Duration(300)),
        doc="The asset register (ROOM-5): maker, model, serial numbers, disks, MAC addresses, OS,\n"
        "installed software, USB storage seen, and the hardware of the SNMP devices (ENTITY-MIB).\n"
        "Each run is compared with the last one: a change (a disk, an adapter or MAC, a serial\n"
        "number, software installed or removed, a device part) is journaled\n"
        "as inventory.changed. A PC that was off at that time runs it once when the agent starts.",
    )
    usb_watch: Schedule = setting(
        factory=lambda: Schedule(every=Duration(60), timeout=Duration(30)),
        doc="USB storage seen: which devices are attached (a few sysfs files, or one registry key\n"
        "on Windows, where the Kernel-PnP log since the last look also gives each insertion at\n"
        "the time it happened); a device connected or disconnected is journaled (usb.connected /\n"
        "usb.disconnected) and kept with its first and last seen in the register. On Linux the\n"
        "USB listener (access_log.usb_listener) records an insertion the moment it happens; this\n"
        "look is its fallback. Each look is a worker process (~0.2 CPU s).",
    )


@frozen
class AccessLogConfig:
    """User access logs (ROOM-6): when they are read, how long the archive keeps them, the USB listener."""

    schedule: Schedule = setting(
        factory=lambda: Schedule(every=Duration(300), timeout=Duration(120)),
        doc="User access logs (ROOM-6): logins, logouts, failed logins and privilege use, read\n"
        "incrementally (Linux: wtmp, btmp, auth.log or the systemd journal; Windows: Security\n"
        "events 4624, 4625, 4634, 4672) into the archive in the state directory.",
    )
    keep_days: int = setting(
        400, "Days the access-log archive is kept (ROOM-6 asks for six months at least).",
        check=at_least(183),
    )
    usb_listener: bool = setting(
        True,
        "Linux: record each USB storage insertion the moment the kernel reports it (a netlink\n"
        "socket read by a thread of the agent; it costs nothing while no device comes).",
    )


@frozen
class LogConfig:
    """The agent's own log: level, format and destination."""

    level: Literal["debug", "info", "warning", "error"] = setting("info", "Least severe level logged.")
    format: Literal["text", "json"] = setting("text", "text for people, json for log shippers.")
    file: str = setting("", "Log file; empty means standard error (the journal under systemd).")


@frozen
class HistoryConfig:
    """How much job-run history the state database keeps."""

    job_runs_per_job: int = setting(2000, "Job runs kept per job in the state database.", check=at_least(10))


def _secret(name: str) -> str:
    return f"{CONFIG_DIR}{_SEP}{name}"


# Shown commented by `hostward config default`; tests/foundation/test_config_examples.py
# uncomments it and validates it with the real loader.
_DEVICES_EXAMPLE = f"""\
devices:
  # A switch over SNMPv3 authPriv (SHA-256 + AES): the pass phrases in files, mode 0600.
  - name: core-switch
    kind: switch
    address: "10.0.0.2:161"
    site: machine-room
    snmp:
      version: "3"
      user: hostward
      auth_protocol: SHA-256
      auth_key_file: {_secret("snmp-auth.key")}
      priv_protocol: AES
      priv_key_file: {_secret("snmp-priv.key")}
  # A UPS with an SNMP card (UPS-MIB, RFC 1628); going on battery starts a backup (BAK-6).
  # Its traps (on battery, battery low) act at once when devices_traps is on (see below).
  - name: ups-1
    kind: ups
    address: "10.0.0.20"
    site: machine-room
    snmp:
      version: "3"
      user: hostward
      auth_key_file: {_secret("snmp-auth.key")}
      priv_key_file: {_secret("snmp-priv.key")}
  # A room temperature/humidity sensor (ENTITY-SENSOR-MIB or an APC NMC probe); many only do v2c.
  - name: room-sensor
    kind: sensor
    address: "10.0.0.21:161"
    site: machine-room
    snmp: {{version: "2c", community_file: {_secret("snmp-community")}}}
  # Running-configuration backup over SSH (nightly, devices_schedule.config_backup), host key
  # pinned (known_hosts, or host_key_fingerprint as `ssh-keygen -lf` prints it).
  - name: edge-router
    kind: router
    address: "10.0.0.1"
    ssh:
      platform: cisco_ios
      username: backup
      password_file: {_secret("edge-router.pass")}
      known_hosts_file: {_secret("known_hosts")}
  # A UPS on this server's USB port, read through Network UPS Tools (NUT: upsd, port 3493): the
  # name from ups.conf; the user (upsd.users, "upsmon secondary") only if upsd asks for one.
  - name: ups-usb
    kind: ups
    address: "127.0.0.1:3493"
    nut: {{ups: myups, username: hostward, password_file: {_secret("nut.pass")}}}
  # Traps from these devices (on battery, battery low, link down, cold start) act at once
  # when the receiver is on: `devices_traps: {{listen: "0.0.0.0:162"}}` (see below). v2c traps
  # carry the device's community (or devices_traps.community_file); v3 traps are checked with
  # the device's snmp user and keys, authPriv unless the device is configured without privacy."""


@frozen
class Config:
    """The whole config file: `version: 1`, the state directory and one section per concern."""

    version: int = setting(
        1, "Config format version. Only 1 exists.", check=lambda v: None if v == 1 else "must be 1"
    )
    state_dir: str = setting(
        "",
        "Where state lives (SQLite database, journal, reports). Empty: "
        + (
            "C:\\ProgramData\\hostward (%ProgramData%\\hostward)."
            if WINDOWS
            else "/var/lib/hostward as root,\n~/.local/state/hostward as a normal user, "
            "%ProgramData%\\hostward on Windows."
        )
        + "\nMust be absolute, and not a system directory (/, /etc, /usr, C:\\Windows, ...).",
        check=_check_state_dir,
    )
    host: HostConfig = setting(factory=HostConfig, doc="This machine.")
    exporter: ExporterConfig = setting(
        factory=ExporterConfig, doc="The /metrics endpoint and the status page."
    )
    collect: CollectConfig = setting(factory=CollectConfig, doc="Host health (CPU, memory, disks, network).")
    audit: AuditConfig = setting(factory=AuditConfig, doc="Compliance with the written rules (RULES.md).")
    backup: BackupConfig = setting(factory=BackupConfig, doc="Two restic repositories (BAK-1..6).")
    devices: tuple[DeviceConfig, ...] = setting(
        (),
        "Machine-room gear polled over SNMP (UPS-MIB, ENTITY-SENSOR-MIB, IF-MIB...) or backed up\n"
        "over SSH. Secrets live in files (mode 0600) named here, never inline.",
        example=_DEVICES_EXAMPLE,
    )
    devices_schedule: DevicesSchedule = setting(factory=DevicesSchedule, doc="When the device jobs run.")
    devices_traps: TrapsConfig = setting(
        factory=TrapsConfig,
        doc="SNMP trap receiver (off by default): device traps act at once (BAK-6, outages).",
    )
    report: ReportConfig = setting(factory=ReportConfig, doc="Printable reports (ROOM-3).")
    inventory: InventoryConfig = setting(
        factory=InventoryConfig, doc="The asset register of this host (ROOM-5)."
    )
    access_log: AccessLogConfig = setting(
        factory=AccessLogConfig, doc="User access logs and USB insertions (ROOM-6, USB-3)."
    )
    history: HistoryConfig = setting(factory=HistoryConfig, doc="How much history the state keeps.")
    log: LogConfig = setting(factory=LogConfig, doc="Logging.")
    limits: LimitsConfig = setting(factory=LimitsConfig, doc="Agent caps; the watchdog of hung work.")

    def problems(self) -> Iterator[tuple[str, str]]:
        names = [d.name for d in self.devices]
        for i, name in enumerate(names):
            if name in names[:i]:
                yield f"devices[{i}].name", f"duplicate device name {name!r}"
        yield from round_problems(self.devices, self.devices_schedule)
        if self.devices_traps.listen:
            problem = _check_listen(self.devices_traps.listen)
            if problem:
                yield "devices_traps.listen", problem
