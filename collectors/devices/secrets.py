"""Secrets for devices, read from files named in the config; never logged, never in argv."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from collectors.devices.config import SnmpConfig
from collectors.errors import HostwardError

MAX_SECRET_BYTES = 4096


class SecretFileError(HostwardError):
    """A secret file is missing, unreadable, empty or readable by everyone."""


@dataclass(frozen=True)
class Credentials:
    """SNMP secrets read from their files. repr hides them."""

    community: str = ""
    auth_key: str = ""
    priv_key: str = ""

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


def read_secret(path: str, what: str) -> str:
    """The first line of `path`, without its line ending.

    Raises SecretFileError if the file cannot be read, is empty, too large, or readable by
    other users (a secret must be mode 0600 or 0640).
    """
    try:
        with open(path, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            data = fh.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise SecretFileError(f"{what}: cannot read {path}: {exc.strerror or exc}") from exc
    if mode & stat.S_IROTH:
        raise SecretFileError(f"{what}: {path} is readable by every user; chmod 600 it")
    if len(data) > MAX_SECRET_BYTES:
        raise SecretFileError(f"{what}: {path} is larger than {MAX_SECRET_BYTES} bytes")
    try:
        text = data.decode("utf-8").splitlines()[0] if data.strip() else ""
    except UnicodeDecodeError as exc:
        raise SecretFileError(f"{what}: {path} is not UTF-8 text") from exc
    if not text:
        raise SecretFileError(f"{what}: {path} is empty")
    return text


def snmp_credentials(config: SnmpConfig) -> Credentials:
    """Read the community (v2c) or the USM keys (v3) a device's config names."""
    if config.version == "2c":
        return Credentials(community=read_secret(config.community_file, "SNMP community"))
    auth = read_secret(config.auth_key_file, "SNMPv3 auth key") if config.auth_key_file else ""
    priv = read_secret(config.priv_key_file, "SNMPv3 privacy key") if config.priv_key_file else ""
    short_auth = config.auth_protocol != "none" and len(auth) < 8
    if short_auth or (config.priv_protocol != "none" and len(priv) < 8):
        raise SecretFileError("SNMPv3 pass phrases must be at least 8 characters (RFC 3414)")
    return Credentials(auth_key=auth, priv_key=priv)
