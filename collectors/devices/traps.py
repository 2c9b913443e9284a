"""SNMP notifications in: SNMPv2c traps and SNMPv3 USM traps, decoded and checked. Pure logic.

The same codec and security stance as polling (`snmp_v2c`, `snmp_usm`): a v2c trap must carry
the sending device's community (or the receiver's trap community); a v3 trap must be
authenticated by the device's user and keys (authPriv unless the device is configured without
privacy), localized to the sender's engine ID (a trap is sent by the authoritative engine, the
device). Nothing from a message is believed before it passes; a failed check names a drop
`reason` (a metric label), never a secret.

`classify` turns the trap OID and its variable bindings into a `TrapEvent`: UPS-MIB upsTraps
(on battery, test completed, alarm added/removed: battery low), IF-MIB linkDown/linkUp and
SNMPv2-MIB coldStart/warmStart; anything else is kind "other".
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from collectors.devices import oids
from collectors.devices.ber import OCTET_STRING, SEQUENCE, BerError, decode_pdu, read_tlv
from collectors.devices.snmp_session import Bind, oid_text
from collectors.devices.snmp_usm import AUTH, UsmMessage, localize
from collectors.devices.trap_names import KINDS, REASONS
from common.frozen import frozen

_TRAP_V2 = 0xA7
_AUTH_FLAG, _PRIV_FLAG = 0x01, 0x02
TIME_WINDOW = 150  # seconds (RFC 3414 3.2 7b)

SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
COLD_START, WARM_START = "1.3.6.1.6.3.1.1.5.1", "1.3.6.1.6.3.1.1.5.2"
LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"
UPS_ON_BATTERY, UPS_TEST_COMPLETED = "1.3.6.1.2.1.33.2.1", "1.3.6.1.2.1.33.2.2"
UPS_ALARM_ADDED, UPS_ALARM_REMOVED = "1.3.6.1.2.1.33.2.3", "1.3.6.1.2.1.33.2.4"
_IF_INDEX, _IF_DESCR, _IF_NAME = (1, 3, 6, 1, 2, 1, 2, 2, 1, 1), (1, 3, 6, 1, 2, 1, 2, 2, 1, 2), (
    1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)  # fmt: skip
_ALARM_DESCR = (1, 3, 6, 1, 2, 1, 33, 1, 6, 2, 1, 2)
_MINUTES_REMAINING = (1, 3, 6, 1, 2, 1, 33, 1, 2, 3)
_LOW_ALARMS = frozenset({"low_battery", "depleted_battery"})


__all__ = ["KINDS", "REASONS", "Trap", "TrapDropped", "TrapEvent", "UsmUser", "classify", "parse"]


class TrapDropped(Exception):
    """The message is dropped; `reason` is one of REASONS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@frozen
class Trap:
    """A decoded notification: its trap OID, variable bindings, and the v2c community or the v3 user,
    engine id, boots and time, not yet checked against the device."""

    version: str  # "2c" or "3"
    trap_oid: str
    binds: tuple[Bind, ...]
    community: bytes = b""  # v2c
    user: bytes = b""  # v3 (checked later against the device)
    engine_id: bytes = b""
    boots: int = 0
    time: int = 0


@frozen
class TrapEvent:
    """What a trap says. `detail`: interface index/name, alarm name or minutes remaining."""

    kind: str
    trap_oid: str
    if_index: str = ""
    if_name: str = ""
    alarm: str = ""
    minutes_remaining: int | None = None


def parse(data: bytes) -> tuple[str, UsmMessage | Trap]:
    """("2c", Trap) or ("3", the parsed but unverified message). Raises TrapDropped."""
    try:
        tag, pos, _ = read_tlv(data, 0)
        if tag != SEQUENCE:
            raise BerError("not a SEQUENCE")
        _, start, stop = read_tlv(data, pos)
        version = int.from_bytes(data[start:stop], "big", signed=True)
        if version == 3:
            return "3", UsmMessage(data)
        if version != 1:  # SNMPv1 Trap-PDU: not accepted (no authentication worth the name)
            raise TrapDropped("unsupported")
        tag, start, stop = read_tlv(data, stop)
        if tag != OCTET_STRING:
            raise BerError("community is not an OCTET STRING")
        community = bytes(data[start:stop])
        return "2c", _from_pdu(decode_pdu(data, stop), "2c", community=community)
    except (BerError, IndexError, ValueError) as exc:
        raise TrapDropped("malformed") from exc


def check_community(trap: Trap, accepted: Sequence[bytes]) -> None:
    if not any(hmac.compare_digest(trap.community, c) for c in accepted if c):
        raise TrapDropped("bad_community")


@frozen
class UsmUser:
    """A device's SNMPv3 user as the receiver checks it (repr hides the pass phrases)."""

    user: bytes
    auth: str  # a key of snmp_usm.AUTH
    auth_key: bytes
    priv_key: bytes  # b"": the device is configured without privacy (authNoPriv)
    engine_id: bytes = b""  # b"": any engine (the key is localized to the message's)

    def __repr__(self) -> str:
        return f"UsmUser({self.user!r}, <hidden>)"


def open_v3(message: UsmMessage, user: UsmUser) -> Trap:
    """Authenticate and decrypt a v3 message with `user`'s keys. Raises TrapDropped."""
    if message.user != user.user or (user.engine_id and message.engine_id != user.engine_id):
        raise TrapDropped("unauthenticated")
    if not message.engine_id or len(message.engine_id) > 32:
        raise TrapDropped("malformed")
    if not message.flags & _AUTH_FLAG or (user.priv_key and not message.flags & _PRIV_FLAG):
        raise TrapDropped("security_level")  # below what the device is configured for
    hash_name, size = AUTH[user.auth]
    try:
        if not message.authentic(localize(hash_name, user.auth_key, message.engine_id), hash_name, size):
            raise TrapDropped("unauthenticated")
    except (BerError, IndexError, ValueError) as exc:
        raise TrapDropped("malformed") from exc
    priv = localize(hash_name, user.priv_key, message.engine_id)[:16] if user.priv_key else None
    try:
        pdu = message.scoped_pdu(priv if message.flags & _PRIV_FLAG else None)
    except (BerError, IndexError, ValueError) as exc:  # authentic, but unreadable: the privacy key
        raise TrapDropped("decryption_failed" if message.flags & _PRIV_FLAG else "malformed") from exc
    return _from_pdu(pdu, "3", user=message.user, engine_id=message.engine_id,
                     boots=message.boots, time=message.time)  # fmt: skip


def _from_pdu(pdu: tuple[int, int, int, int, list[Bind]], version: str, **fields: object) -> Trap:
    tag, _, _, _, binds = pdu
    if tag != _TRAP_V2:  # GetRequest, Response, InformRequest...: not a trap
        raise TrapDropped("unsupported")
    trap_oid = next((str(v) for o, v in binds if o == SNMP_TRAP_OID and isinstance(v, str)), "")
    if not trap_oid:
        raise TrapDropped("malformed")  # RFC 3416 4.2.6: the second binding names the trap
    return Trap(version, trap_oid, tuple(binds), **fields)  # type: ignore[arg-type]


def in_time_window(last: tuple[int, int, float] | None, boots: int, engine_time: int, now: float) -> bool:
    """RFC 3414 3.2 7b for a notification receiver: `last` = (boots, time, our monotonic time)
    of the newest authentic message from this engine. A message older than that by more than
    the window (a replay) is refused; the first one from an engine sets the clock."""
    if last is None:
        return True
    last_boots, last_time, seen = last
    if boots != last_boots:
        return boots > last_boots
    return engine_time >= last_time + int(now - seen) - TIME_WINDOW


def classify(trap: Trap) -> TrapEvent:
    binds = {oid: value for oid, value in trap.binds}
    oid = trap.trap_oid
    if oid in (LINK_DOWN, LINK_UP):
        index = _column(binds, _IF_INDEX)
        name = _column(binds, _IF_NAME) or _column(binds, _IF_DESCR)
        if not index:  # linkDown without ifIndex: the index is the instance of any if column
            index = next((oid_text(o[10:]) for o in binds if o[:9] == _IF_INDEX[:9] and len(o) > 10), "")
        return TrapEvent("link_down" if oid == LINK_DOWN else "link_up", oid, if_index=index, if_name=name)
    if oid in (COLD_START, WARM_START):
        return TrapEvent("cold_start" if oid == COLD_START else "warm_start", oid)
    if oid == UPS_ON_BATTERY:
        minutes = _column(binds, _MINUTES_REMAINING)
        return TrapEvent("on_battery", oid, minutes_remaining=int(minutes) if minutes.isdigit() else None)
    if oid == UPS_TEST_COMPLETED:
        return TrapEvent("ups_test", oid)
    if oid in (UPS_ALARM_ADDED, UPS_ALARM_REMOVED):
        descr = _column(binds, _ALARM_DESCR)
        alarm = oids.UPS_WELL_KNOWN_ALARMS.get(descr, descr or "unknown")
        if alarm in _LOW_ALARMS:
            return TrapEvent("battery_low" if oid == UPS_ALARM_ADDED else "battery_ok", oid, alarm=alarm)
        if alarm == "on_battery" and oid == UPS_ALARM_ADDED:
            return TrapEvent("on_battery", oid, alarm=alarm)
        return TrapEvent("ups_alarm", oid, alarm=alarm if oid == UPS_ALARM_ADDED else f"{alarm} cleared")
    return TrapEvent("other", oid)


def _column(binds: Mapping[tuple[int, ...], object], column: tuple[int, ...]) -> str:
    """The value of the first binding in `column` (any instance), as text."""
    for oid, value in binds.items():
        if oid[: len(column)] == column:
            if isinstance(value, bytes):
                return value.decode("utf-8", "replace")
            return "" if value is None else str(value)
    return ""
