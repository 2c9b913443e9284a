"""Device credentials, read from files named in the config (common.secrets); never logged, never in argv."""

from __future__ import annotations

from collectors.devices.config import SnmpConfig
from common.frozen import frozen
from common.secrets import SecretFileError, read_secret


@frozen
class Credentials:
    """SNMP secrets read from their files. repr hides them."""

    community: str = ""
    auth_key: str = ""
    priv_key: str = ""

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


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
