"""A small asyncio SNMP client over pysnmp 7 (`pysnmp.hlapi.v3arch.asyncio`).

Used for the SNMPv3 protocols the built-in `snmp_usm` does not do (MD5, DES, 3DES, AES-192/256,
noAuthNoPriv) and, on request, for comparison. Imported only when such a device is configured:
this module imports pysnmp at the top, and nothing on an office PC's path imports it. Values
leave as plain Python: int, str (OIDs, dotted) or bytes (OCTET STRINGs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyasn1.type import univ
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import auth as usm
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.rfc1902 import ObjectName

from collectors.devices import snmp_session as session
from collectors.devices.config import SnmpConfig
from collectors.devices.secrets import Credentials
from collectors.devices.snmp_session import END_OF_MIB, Bind, Oid, Session, SnmpError, Value

AUTH_PROTOCOLS = {
    "SHA-512": usm.usmHMAC384SHA512AuthProtocol,
    "SHA-384": usm.usmHMAC256SHA384AuthProtocol,
    "SHA-256": usm.usmHMAC192SHA256AuthProtocol,
    "SHA-224": usm.usmHMAC128SHA224AuthProtocol,
    "SHA": usm.usmHMACSHAAuthProtocol,
    "MD5": usm.usmHMACMD5AuthProtocol,
    "none": usm.usmNoAuthProtocol,
}
PRIV_PROTOCOLS = {
    "AES": usm.usmAesCfb128Protocol,
    "AES-192": usm.usmAesCfb192Protocol,
    "AES-256": usm.usmAesCfb256Protocol,
    "3DES": usm.usm3DESEDEPrivProtocol,
    "DES": usm.usmDESPrivProtocol,
    "none": usm.usmNoPrivProtocol,
}
# pysnmp's error indications, said plainly (what an administrator should check)
_REASONS: tuple[tuple[type[Any], str], ...] = (
    (errind.RequestTimedOut, "no answer (timeout): device down, wrong address/port or wrong credentials"),
    (errind.WrongDigest, session.WRONG_DIGEST),
    (errind.DecryptionError, session.DECRYPTION_ERROR),
    (errind.UnknownUserName, session.UNKNOWN_USER),
    (errind.UnsupportedSecurityLevel, session.UNSUPPORTED_LEVEL),
    (errind.NotInTimeWindow, session.NOT_IN_TIME_WINDOW),
    (errind.UnknownEngineID, session.UNKNOWN_ENGINE_ID),
)


def auth_data(config: SnmpConfig, secrets: Credentials) -> Any:
    """CommunityData or UsmUserData for pysnmp."""
    if config.version == "2c":
        # v2c is what older gear speaks; the config schema recommends v3 and says so.
        return CommunityData(secrets.community, mpModel=1)  # noqa: S508
    return UsmUserData(
        config.user,
        authKey=secrets.auth_key or None,
        privKey=secrets.priv_key or None,
        authProtocol=AUTH_PROTOCOLS[config.auth_protocol],
        privProtocol=PRIV_PROTOCOLS[config.priv_protocol],
    )


def new_engine() -> Any:
    return SnmpEngine()


class PysnmpSession(Session):
    """Requests to one device through pysnmp. Create with `await PysnmpSession.open(...)`."""

    def __init__(self, engine: Any, auth: Any, target: Any, context: Any, max_rows: int) -> None:
        super().__init__(max_rows)
        self._engine = engine
        self._auth = auth
        self._target = target
        self._context = context

    @classmethod
    async def open(
        cls,
        engine: Any,
        auth: Any,
        host: str,
        port: int,
        *,
        timeout: float,
        retries: int,
        context: str = "",
        max_rows: int = 2048,
    ) -> PysnmpSession:
        target = await UdpTransportTarget.create((host, port), timeout=timeout, retries=retries)
        ctx = ContextData(contextName=context) if context else ContextData()
        return cls(engine, auth, target, ctx, max_rows)

    async def _get(self, oids: Sequence[Oid]) -> list[Bind]:
        err, status, index, binds = await get_cmd(
            self._engine, self._auth, self._target, self._context,
            *(ObjectType(ObjectIdentity(ObjectName(oid))) for oid in oids), lookupMib=False,
        )  # fmt: skip
        self._raise(err, status, index)
        return [(tuple(name), to_python(value)) for name, value in binds]

    async def _bulk(self, oids: Sequence[Oid], repetitions: int) -> list[Bind]:
        err, status, index, binds = await bulk_cmd(
            self._engine, self._auth, self._target, self._context, 0, repetitions,
            *(ObjectType(ObjectIdentity(ObjectName(oid))) for oid in oids), lookupMib=False,
        )  # fmt: skip
        self._raise(err, status, index)
        return [
            (tuple(name), END_OF_MIB if isinstance(value, rfc1905.EndOfMibView) else to_python(value))
            for name, value in binds
        ]

    def _raise(self, err: Any, status: Any, index: Any) -> None:
        if err:
            raise SnmpError(describe_error(err))
        if status and int(status) != 0:
            kind = session.TooBig if int(status) == 1 else SnmpError
            raise kind(f"device answered with SNMP error {status.prettyPrint()} at {int(index)}")


def describe_error(err: Any) -> str:
    for kind, reason in _REASONS:
        if isinstance(err, kind):
            return f"{reason} ({err})"
    return str(err)


def to_python(value: Any) -> Value | None:
    """pysnmp value -> int, str (OID) or bytes; None for noSuchObject/noSuchInstance/endOfMib."""
    if isinstance(value, rfc1905.NoSuchObject | rfc1905.NoSuchInstance | rfc1905.EndOfMibView):
        return None
    if isinstance(value, univ.ObjectIdentifier):
        return ".".join(str(x) for x in value)
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in value.asOctets())
    if isinstance(value, univ.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, univ.Integer):
        return int(value)
    return None
