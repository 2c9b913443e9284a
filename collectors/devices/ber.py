"""The BER codec of SNMP messages (X.690 definite lengths; RFC 3416 PDUs, RFC 1157 framing).

Shared by `snmp_v2c` (v2c messages), `snmp_usm` (SNMPv3/USM headers around the same PDU) and
anything else that reads or writes SNMP on the wire. Only what SNMP uses: universal INTEGER,
OCTET STRING, NULL, OBJECT IDENTIFIER and SEQUENCE, the SNMPv2-SMI application types and the
context-tagged PDUs. Decoding never trusts the bytes: every length is checked against the
buffer, OID arcs are capped (`MAX_ARC`), and anything malformed raises `BerError` (a
ValueError), never IndexError or RecursionError (decoding is iterative).

Values leave as plain Python: int (INTEGER, counters, gauges, TimeTicks), bytes (OCTET STRING,
Opaque), str (OIDs and IpAddress, dotted), `END_OF_MIB`, or None (NULL, noSuchObject,
noSuchInstance, types SNMP does not define).

Decoding is the hot path of a polling round (200 switches: ~100 000 values): `decode_pdu`
reads the variable bindings with the length parsing inlined, and OIDs without multi-byte arcs
(most of them) are converted in one step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from collectors.devices.snmp_session import END_OF_MIB, Bind, Oid

# Universal tags
SEQUENCE, INTEGER, OCTET_STRING, NULL, OBJECT_IDENTIFIER = 0x30, 0x02, 0x04, 0x05, 0x06
# SNMPv2-SMI application tags
IP_ADDRESS, COUNTER32, GAUGE32, TIME_TICKS, OPAQUE, COUNTER64, UINTEGER32 = (
    0x40, 0x41, 0x42, 0x43, 0x44, 0x46, 0x47,
)  # fmt: skip
# RFC 3416 exceptions in a variable binding
NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW = 0x80, 0x81, 0x82
# PDU tags
GET, GET_NEXT, RESPONSE, SET, GET_BULK, INFORM, TRAP_V2, REPORT = (
    0xA0, 0xA1, 0xA2, 0xA3, 0xA5, 0xA6, 0xA7, 0xA8,
)  # fmt: skip
MAX_MESSAGE = 65507  # the largest UDP payload over IPv4
MAX_ARC = 2**64 - 1  # SMIv2 arcs are 32-bit; a longer one is refused, never turned into a huge int
_UNSIGNED = frozenset((COUNTER32, GAUGE32, TIME_TICKS, COUNTER64, UINTEGER32))


class BerError(ValueError):
    """The bytes are not a well-formed SNMP message."""


# --- encoding ---------------------------------------------------------------------------------


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    """One tag-length-value."""
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    return bytes((tag,)) + encode_length(n) + body


def encode_int(value: int, tag: int = INTEGER) -> bytes:
    """A signed INTEGER (two's complement, shortest form)."""
    return tlv(tag, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def encode_octets(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def encode_oid(oid: Oid) -> bytes:
    if len(oid) < 2 or not 0 <= oid[0] <= 2 or (oid[0] < 2 and not 0 <= oid[1] < 40):
        raise ValueError(f"not an OID: {oid}")
    first = oid[0] * 40 + oid[1]
    if first < 0x80 and (len(oid) == 2 or (min(oid[2:]) >= 0 and max(oid[2:]) < 0x80)):
        return tlv(OBJECT_IDENTIFIER, bytes((first, *oid[2:])))  # every arc in one byte
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1], *oid[2:]):  # the first two arcs share one sub-identifier
        if arc < 0:
            raise ValueError(f"negative OID arc in {oid}")
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return tlv(OBJECT_IDENTIFIER, bytes(out))


def encode_pdu(pdu_tag: int, request_id: int, a: int, b: int, oids: Sequence[Oid]) -> bytes:
    """A PDU asking for `oids` (values NULL): for GETBULK `a`, `b` are non-repeaters and
    max-repetitions, else error status and index (0, 0). Also an SNMPv3 scoped PDU's payload."""
    binds = b"".join(tlv(SEQUENCE, encode_oid(oid) + b"\x05\x00") for oid in oids)
    return tlv(pdu_tag, encode_int(request_id) + encode_int(a) + encode_int(b) + tlv(SEQUENCE, binds))


def encode_v2c_message(
    community: bytes, pdu_tag: int, request_id: int, a: int, b: int, oids: Sequence[Oid]
) -> bytes:
    """A whole SNMPv2c message (version field 1) around `encode_pdu(...)`."""
    pdu = encode_pdu(pdu_tag, request_id, a, b, oids)
    return tlv(SEQUENCE, b"\x02\x01\x01" + tlv(OCTET_STRING, community) + pdu)


# --- decoding ---------------------------------------------------------------------------------


def read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the TLV at `pos`."""
    if pos + 2 > len(data):
        raise BerError("truncated")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first & 0x80:
        size = first & 0x7F
        if size == 0 or size > 4 or pos + size > len(data):
            raise BerError("bad length")
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    else:
        length = first
    end = pos + length
    if end > len(data):
        raise BerError("truncated value")
    return tag, pos, end


def decode_int(data: bytes, start: int, end: int) -> int:
    return int.from_bytes(data[start:end], "big", signed=True)


_OIDS: dict[bytes, Oid] = {}  # encoded -> decoded: a round meets the same few hundred OIDs on every switch
_OIDS_MAX = 4096


def decode_oid(body: bytes) -> Oid:
    oid = _OIDS.get(body)
    if oid is None:
        oid = _decode_oid(body)
        if len(_OIDS) >= _OIDS_MAX:
            _OIDS.clear()
        _OIDS[bytes(body)] = oid
    return oid


def _decode_oid(body: bytes) -> Oid:
    if not body:
        raise BerError("empty OID")
    if body[-1] & 0x80:
        raise BerError("OID ends inside an arc")
    if max(body) < 0x80:  # every arc in one byte: the common case
        first = body[0]
        head = 2 if first >= 80 else first // 40
        return (head, first - 40 * head, *body[1:])
    subs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if value > MAX_ARC:
            raise BerError("OID arc too large")
        if not byte & 0x80:
            subs.append(value)
            value = 0
    head = min(subs[0] // 40, 2)
    return (head, subs[0] - 40 * head, *subs[1:])


def decode_value(tag: int, body: bytes) -> Any:
    """A variable binding's value as plain Python (see the module's docstring)."""
    if tag == INTEGER:
        return int.from_bytes(body, "big", signed=True)
    if tag in _UNSIGNED:
        return int.from_bytes(body, "big")
    if tag in (OCTET_STRING, OPAQUE):
        return bytes(body)
    if tag == OBJECT_IDENTIFIER:
        return ".".join(map(str, decode_oid(body)))
    if tag == IP_ADDRESS:
        return ".".join(map(str, body))
    if tag == END_OF_MIB_VIEW:
        return END_OF_MIB
    return None  # NULL, noSuchObject, noSuchInstance, unknown types


def decode_pdu(data: bytes, pos: int) -> tuple[int, int, int, int, list[Bind]]:
    """The PDU at `pos`: (tag, request id, error status, error index, variable bindings)."""
    pdu_tag, pos, _ = read_tlv(data, pos)
    numbers = []
    for _ in range(3):
        tag, start, pos = read_tlv(data, pos)
        if tag != INTEGER:
            raise BerError("PDU header is not three INTEGERs")
        numbers.append(int.from_bytes(data[start:pos], "big", signed=True))
    tag, pos, end = read_tlv(data, pos)
    if tag != SEQUENCE:
        raise BerError("variable bindings are not a SEQUENCE")
    return pdu_tag, numbers[0], numbers[1], numbers[2], _decode_binds(data, pos, end)


def _decode_binds(data: bytes, pos: int, end: int) -> list[Bind]:
    """Variable bindings in data[pos:end]; `read_tlv` inlined for short lengths (the hot loop)."""
    binds: list[Bind] = []
    append = binds.append
    value_of = decode_value
    known = _OIDS.get
    from_bytes = int.from_bytes
    while pos < end:
        if pos + 2 <= end and data[pos + 1] < 0x80:  # the binding's SEQUENCE, short form
            pos, bind_end = pos + 2, pos + 2 + data[pos + 1]
        else:
            _, pos, bind_end = read_tlv(data, pos)
        if bind_end > end:
            raise BerError("binding beyond its list")
        if pos + 2 <= bind_end and data[pos + 1] < 0x80:
            start = pos + 2
            stop = start + data[pos + 1]
        else:
            _, start, stop = read_tlv(data, pos)
        if data[pos] != OBJECT_IDENTIFIER or stop > bind_end:
            raise BerError("binding without an OID")
        body = data[start:stop]
        oid = known(body) or decode_oid(body)
        if stop + 2 <= bind_end and data[stop + 1] < 0x80:
            tag, start = data[stop], stop + 2
            stop = start + data[stop + 1]
        else:
            tag, start, stop = read_tlv(data, stop)
        if stop > bind_end:
            raise BerError("value beyond its binding")
        if tag == INTEGER:
            append((oid, from_bytes(data[start:stop], "big", signed=True)))
        elif tag in _UNSIGNED:
            append((oid, from_bytes(data[start:stop], "big")))
        elif tag == OCTET_STRING:
            append((oid, data[start:stop]))
        else:
            append((oid, value_of(tag, data[start:stop])))
        pos = bind_end
    return binds


def decode_v2c_message(data: bytes) -> tuple[int, bytes, int, int, int, int, list[Bind]]:
    """A v1/v2c message: (version, community, PDU tag, request id, error status, error index,
    binds)."""
    tag, pos, _ = read_tlv(data, 0)
    if tag != SEQUENCE:
        raise BerError("not a SEQUENCE")
    tag, start, stop = read_tlv(data, pos)
    if tag != INTEGER:
        raise BerError("version is not an INTEGER")
    version = int.from_bytes(data[start:stop], "big", signed=True)
    tag, start, stop = read_tlv(data, stop)
    if tag != OCTET_STRING:
        raise BerError("community is not an OCTET STRING")
    community = data[start:stop]
    pdu_tag, request_id, status, index, binds = decode_pdu(data, stop)
    return version, community, pdu_tag, request_id, status, index, binds


def v2c_request_id(data: bytes) -> int:
    """The request id of a v1/v2c message, without decoding its bindings."""
    tag, pos, _ = read_tlv(data, 0)
    if tag != SEQUENCE:
        raise BerError("not a SEQUENCE")
    _, _, pos = read_tlv(data, pos)  # version
    _, _, pos = read_tlv(data, pos)  # community
    _, pos, _ = read_tlv(data, pos)  # the PDU
    tag, start, stop = read_tlv(data, pos)
    if tag != INTEGER:
        raise BerError("request id is not an INTEGER")
    return int.from_bytes(data[start:stop], "big", signed=True)
