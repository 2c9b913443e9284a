"""The `devices:` config list (schema) and the devices polling schedule.

Secrets never live here: the SNMP community, the SNMPv3 keys and the SSH password are read
from files (mode 0600) named by the config. SNMPv3 defaults to authPriv with SHA-256 and AES;
MD5, DES/3DES, noAuth and noPriv are refused unless the device says `allow_weak: true`
(old gear that cannot do better). SSH host keys are always pinned: a `known_hosts` file or a
SHA256 fingerprint as printed by `ssh-keygen -lf`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from common.frozen import frozen
from common.schema import Duration, setting
from common.schema.common import Schedule
from common.schema.fields import at_least, between

DeviceKind = Literal["switch", "router", "ups", "sensor", "printer", "bmc"]
AuthProtocol = Literal["SHA-512", "SHA-384", "SHA-256", "SHA-224", "SHA", "MD5", "none"]
PrivProtocol = Literal["AES", "AES-192", "AES-256", "3DES", "DES", "none"]
SshPlatform = Literal["cisco_ios", "huawei", "hp_comware", "ruijie_os", "linux"]
Encoding = Literal["auto", "utf-8", "gbk"]

WEAK_AUTH = frozenset({"MD5", "none"})
WEAK_PRIV = frozenset({"DES", "3DES", "none"})
_FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")


@frozen
class DevicesSchedule:
    """When the device jobs run (top-level key `devices_schedule`, next to the `devices` list)."""

    poll: Schedule = setting(
        factory=lambda: Schedule(every=Duration(60), jitter=Duration(5), timeout=Duration(30)),
        doc="SNMP polling of the network gear (every device when `power` is disabled), and the\n"
        "outage book (this host included).",
    )
    power: Schedule = setting(
        factory=lambda: Schedule(every=Duration(30), jitter=Duration(2), timeout=Duration(30)),
        doc="SNMP polling of UPSes and room sensors, a round of its own: a slow or set-aside\n"
        "network round never stops it, nor a UPS on battery starting a backup (BAK-6).",
    )
    config_backup: Schedule = setting(
        factory=lambda: Schedule(at="02:15", jitter=Duration(600), timeout=Duration(1800)),
        doc="Running-configuration backup of every device with `ssh:`.",
    )


@frozen
class SnmpConfig:
    """How a device is polled over SNMP: version, credentials (from files), budget and table size."""

    version: Literal["2c", "3"] = setting("3", "SNMP version; 3 with authPriv is the recommendation.")
    community_file: str = setting("", "v2c: file holding the community string (mode 0600).")
    user: str = setting("", "v3: the USM user name.")
    auth_protocol: AuthProtocol = setting(
        "SHA-256", "v3: SHA-512, SHA-384, SHA-256, SHA-224, SHA; MD5/none need allow_weak."
    )
    auth_key_file: str = setting("", "v3: file holding the authentication pass phrase.")
    priv_protocol: PrivProtocol = setting(
        "AES", "v3: AES (128), AES-192, AES-256; DES/3DES/none need allow_weak."
    )
    priv_key_file: str = setting("", "v3: file holding the privacy pass phrase.")
    context: str = setting("", "v3: context name, rarely needed.")
    allow_weak: bool = setting(
        False, "Accept MD5, DES/3DES, noAuth or noPriv for this device (old gear only)."
    )
    timeout: Duration = setting(
        Duration(5),
        "Whole budget for one device per round; a dead device costs only this.",
        check=between(0.2, 120),
    )
    retries: int = setting(1, "Retransmissions of one request before it counts as lost.", check=between(0, 5))
    max_rows: int = setting(2048, "Rows read per table at most (walks stop there).", check=at_least(1))

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.version == "2c":
            if not self.community_file:
                yield "community_file", "v2c needs community_file (the community is never inline)"
            if self.user:
                yield "user", "user is for version 3; v2c uses community_file"
            return
        if self.community_file:
            yield "community_file", "community_file is for version 2c; v3 uses user and key files"
        if not self.user:
            yield "user", "v3 needs a user"
        weak = not self.allow_weak
        if weak and self.auth_protocol in WEAK_AUTH:
            yield (
                "auth_protocol",
                (f"{self.auth_protocol} is weak; use SHA-256 (or set allow_weak: true for this device)"),
            )
        if weak and self.priv_protocol in WEAK_PRIV:
            yield (
                "priv_protocol",
                (f"{self.priv_protocol} is weak; use AES (or set allow_weak: true for this device)"),
            )
        if self.auth_protocol == "none" and self.priv_protocol != "none":
            yield "priv_protocol", "privacy needs authentication (auth_protocol is none)"
        if self.auth_protocol != "none" and not self.auth_key_file:
            yield "auth_key_file", "needed for authentication (the key is never inline)"
        if self.priv_protocol != "none" and not self.priv_key_file:
            yield "priv_key_file", "needed for privacy (the key is never inline)"

    @property
    def security_level(self) -> str:
        if self.auth_protocol == "none":
            return "noAuthNoPriv"
        return "authNoPriv" if self.priv_protocol == "none" else "authPriv"


@frozen
class SshConfig:
    """How a device's configuration is backed up over SSH: platform, login, pinned host key, command."""

    platform: SshPlatform = setting(doc="cisco_ios, huawei, hp_comware (H3C), ruijie_os or linux.")
    username: str = setting(doc="Login name (not a secret; the password or key is).")
    password_file: str = setting("", "File holding the password (mode 0600).")
    key_file: str = setting("", "Private key file for key authentication (mode 0600).")
    port: int = setting(22, "SSH port.", check=between(1, 65535))
    known_hosts_file: str = setting(
        "", "known_hosts file pinning the device's host key ([host]:port for ports other than 22)."
    )
    host_key_fingerprint: str = setting(
        "", 'Or the pinned key\'s fingerprint as `ssh-keygen -lf` prints it: "SHA256:...".'
    )
    command: str = setting("", "Command that prints the configuration; empty: the platform's usual one.")
    encoding: Encoding = setting("auto", "Output encoding: auto (UTF-8, else GBK), utf-8 or gbk.")
    timeout: Duration = setting(Duration(60), "Budget for one configuration backup.", check=at_least(1))

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.password_file and not self.key_file:
            yield "password_file", "give password_file or key_file (credentials are never inline)"
        if bool(self.known_hosts_file) == bool(self.host_key_fingerprint):
            yield (
                "known_hosts_file",
                ("pin the host key: give exactly one of known_hosts_file and host_key_fingerprint"),
            )
        if self.host_key_fingerprint and not _FINGERPRINT.match(self.host_key_fingerprint):
            yield "host_key_fingerprint", 'must look like "SHA256:" + 43 base64 characters'


@frozen
class NutConfig:
    """A UPS behind Network UPS Tools: upsd's TCP protocol (LIST VAR), local or networked."""

    ups: str = setting(doc="The UPS name in upsd (ups.conf section), e.g. myups.")
    username: str = setting("", "upsd user (upsd.users) when upsd asks for one; empty: none.")
    password_file: str = setting("", "File holding that user's password (mode 0600).")
    timeout: Duration = setting(Duration(5), "Budget for one read.", check=between(0.2, 60))

    def problems(self) -> Iterator[tuple[str, str]]:
        if bool(self.username) != bool(self.password_file):
            yield "password_file", "give both username and password_file, or neither"
        if not self.ups or not self.ups.replace("-", "").replace("_", "").replace(".", "").isalnum():
            yield "ups", "the UPS name in upsd: letters, digits, '-', '_' and '.'"


@frozen
class TrapsConfig:
    """The SNMP trap receiver (top-level key `devices_traps`); off unless `listen` is set."""

    listen: str = setting(
        "", 'UDP "HOST:PORT" to receive traps on, e.g. "0.0.0.0:162" (the standard port); empty: off.'
    )
    community_file: str = setting(
        "", "v2c: a trap community accepted from every device (besides each device's own)."
    )
    rate: float = setting(5.0, "Traps per second accepted from one source (token bucket).",
                          check=between(0.1, 1000))  # fmt: skip
    burst: int = setting(20, "Traps one source may send at once before the rate applies.",
                         check=between(1, 10000))  # fmt: skip
    max_sources: int = setting(256, "Sources remembered at once (least recent forgotten).",
                               check=between(1, 65536))  # fmt: skip
    queue: int = setting(256, "Traps waiting to be handled at most; more are dropped.",
                         check=between(1, 65536))  # fmt: skip


@frozen
class DeviceConfig:
    """One entry of the `devices:` list: a machine-room device, where it is, and how it is read."""

    name: str = setting(doc="Unique name, used as the `device` label.")
    kind: DeviceKind = setting(doc="switch, router, ups, sensor, printer or bmc.")
    address: str = setting(doc='"host:port" (port 161 when omitted; 3493 for `nut:`).')
    site: str = setting("", "Where it stands, e.g. the machine room's name.")
    snmp: SnmpConfig | None = setting(None, "SNMP polling.")
    ssh: SshConfig | None = setting(None, "SSH configuration backup (netmiko).")
    nut: NutConfig | None = setting(
        None, 'A UPS read from NUT\'s upsd (kind ups; address "host:3493", no `snmp:`).'
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.name or not self.name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            yield "name", "use letters, digits, '-', '_' and '.' only"
        try:
            host_port(self.address, 161)
        except ValueError as exc:
            yield "address", str(exc)
        if self.nut is not None and self.kind != "ups":
            yield "nut", "nut is for kind ups"
        if self.nut is not None and self.snmp is not None:
            yield "nut", "a UPS is read either over SNMP or from upsd (nut), not both"

    @property
    def host(self) -> str:
        return host_port(self.address, 161)[0]

    @property
    def snmp_port(self) -> int:
        return host_port(self.address, 161)[1]

    @property
    def nut_port(self) -> int:
        return host_port(self.address, 3493)[1]


def host_port(address: str, default_port: int) -> tuple[str, int]:
    """'10.0.0.2:161' -> ('10.0.0.2', 161); '[::1]:1161' -> ('::1', 1161); 'sw1' -> ('sw1', 161)."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or str(default_port)
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, str(default_port)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError('must be "HOST:PORT" or "HOST", e.g. "10.0.0.2:161"')
    return host, int(port)
