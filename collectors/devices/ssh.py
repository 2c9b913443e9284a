"""Fetch a running configuration over SSH with netmiko, the host key pinned.

Order matters: first a bare SSH handshake (paramiko Transport, no authentication at all)
checks the server's host key against the pin; a changed or unknown key raises
`HostKeyMismatch` before any credential exists on the wire. Then netmiko connects with
`ssh_strict=True` (paramiko's RejectPolicy) and a known_hosts file holding only the verified
key, so the second connection cannot be answered by another key either. Never AutoAddPolicy.

paramiko and netmiko are imported inside the functions: only a host with SSH devices loads them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

from collectors.devices.config import DeviceConfig, SshConfig
from collectors.devices.vendors import decode_output, platform
from common.errors import HostwardError
from common.secrets import read_secret

log = logging.getLogger(__name__)
_TRY_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "rsa-sha2-512",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)


class SshError(HostwardError):
    """A device's configuration could not be read over SSH, and why."""

    def __init__(self, device: str, reason: str) -> None:
        super().__init__(f"{device}: {reason}")
        self.device = device
        self.reason = reason


class HostKeyMismatch(SshError):
    """The server's host key is not the pinned one: possibly a man in the middle."""


def fingerprint(key: Any) -> str:
    """`SHA256:...` as `ssh-keygen -lf` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_hosts_name(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def server_key(host: str, port: int, key_types: tuple[str, ...] | None, timeout: float) -> Any:
    """The host key the server presents, from a handshake that sends no credentials."""
    import paramiko

    sock = socket.create_connection((host, port), timeout=timeout)
    transport = paramiko.Transport(sock)
    try:
        if key_types:
            transport.get_security_options().key_types = key_types
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key()
    finally:
        transport.close()
        sock.close()


def verify_host_key(device: DeviceConfig, ssh: SshConfig, timeout: float) -> Any:
    """Return the pinned key after checking the server presents it; raise HostKeyMismatch."""
    import paramiko

    host, port = device.host, ssh.port
    if ssh.known_hosts_file:
        try:
            pinned = paramiko.HostKeys(ssh.known_hosts_file).lookup(known_hosts_name(host, port))
        except OSError as exc:
            raise SshError(device.name, f"cannot read known_hosts {ssh.known_hosts_file}: {exc}") from exc
        if not pinned:
            raise HostKeyMismatch(
                device.name,
                f"no pinned host key for {known_hosts_name(host, port)} in {ssh.known_hosts_file}",
            )
        wanted = {fingerprint(k) for k in pinned.values()}
        types = tuple(t for t in _TRY_KEY_TYPES if _type_of(t) in set(pinned.keys()))
    else:
        wanted = {ssh.host_key_fingerprint}
        types = _TRY_KEY_TYPES
    seen = []
    for key_type in types or _TRY_KEY_TYPES:
        try:
            key = server_key(host, port, (key_type,), timeout)
        except paramiko.SSHException:
            continue  # the server has no key of this type
        except OSError as exc:
            raise SshError(device.name, f"cannot connect to {host}:{port}: {exc}") from exc
        if fingerprint(key) in wanted:
            return key
        seen.append(f"{key.get_name()} {fingerprint(key)}")
    raise HostKeyMismatch(
        device.name,
        "host key changed or not pinned: the server shows "
        + (", ".join(seen) or "no usable key")
        + f"; pinned {', '.join(sorted(wanted))}. Nothing was sent; check for a replaced device "
        "or a man in the middle, then update the pin.",
    )


def fetch_config(device: DeviceConfig, work_dir: Path) -> str:
    """The device's running configuration as text (decoded, not yet normalised)."""
    ssh = device.ssh
    if ssh is None:
        raise SshError(device.name, "no ssh: section")
    rules = platform(ssh.platform)
    key = verify_host_key(device, ssh, min(15.0, ssh.timeout))
    password = read_secret(ssh.password_file, "SSH password") if ssh.password_file else None
    work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, pin_file = tempfile.mkstemp(prefix="known_hosts-", dir=work_dir)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{known_hosts_name(device.host, ssh.port)} {key.get_name()} {key.get_base64()}\n")
        raw = _netmiko_fetch(
            device, ssh, rules.netmiko_type, ssh.command or rules.command, password, pin_file
        )
    finally:
        os.unlink(pin_file)
    return decode_output(raw, ssh.encoding)


def _netmiko_fetch(
    device: DeviceConfig, ssh: SshConfig, device_type: str, command: str, password: str | None, pin_file: str
) -> bytes:
    import netmiko
    import paramiko

    params: dict[str, Any] = {
        "device_type": device_type,
        "host": device.host,
        "port": ssh.port,
        "username": ssh.username,
        "ssh_strict": True,  # RejectPolicy: an unknown key is refused, never added
        "system_host_keys": False,
        "alt_host_keys": True,
        "alt_key_file": pin_file,
        "allow_agent": False,
        "use_keys": bool(ssh.key_file),
        "conn_timeout": min(15.0, ssh.timeout),
        "auth_timeout": min(15.0, ssh.timeout),
        "banner_timeout": min(15.0, ssh.timeout),
        # latin-1 maps bytes to characters one to one, so the raw bytes come back intact and
        # the GBK/UTF-8 decision is ours (decode_output), not a lossy guess inside netmiko.
        "encoding": "latin-1",
    }
    if password is not None:
        params["password"] = password
    if ssh.key_file:
        params["key_file"] = ssh.key_file
    try:
        with netmiko.ConnectHandler(**params) as conn:
            output = conn.send_command(
                command, read_timeout=ssh.timeout, strip_prompt=True, strip_command=True
            )
    except paramiko.BadHostKeyException as exc:
        raise HostKeyMismatch(device.name, f"host key changed between checks: {exc}") from exc
    except netmiko.NetmikoAuthenticationException as exc:
        raise SshError(device.name, "authentication failed (user, password or key)") from exc
    except netmiko.NetmikoTimeoutException as exc:
        raise SshError(device.name, f"timed out: {exc}") from exc
    except (paramiko.SSHException, OSError) as exc:
        raise SshError(device.name, f"SSH error: {exc}") from exc
    return str(output).encode("latin-1", "replace")


def _type_of(key_type: str) -> str:
    """Negotiated algorithm -> the key type known_hosts names (rsa-sha2-* keys are ssh-rsa)."""
    return "ssh-rsa" if key_type.startswith("rsa-sha2-") else key_type
