"""SNMPv2c over asyncio with a small built-in BER codec (RFC 3416 messages, RFC 1157 framing).

Only what a poller needs: GetRequest and GetBulkRequest out, Response in, the SNMPv2-SMI
value types. The socket is connected to the device, so only the device's own answers arrive
(and a closed port is reported at once when the host says so). Every answer is checked:
version, community and request id must match, or it is dropped as noise.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from collectors.devices.snmp_session import END_OF_MIB, Bind, Oid, Session, SnmpError

_SEQUENCE, _INTEGER, _OCTETS, _NULL, _OID = 0x30, 0x02, 0x04, 0x05, 0x06
_GET, _RESPONSE, _BULK = 0xA0, 0xA2, 0xA5
_NO_SUCH = (0x80, 0x81)  # noSuchObject, noSuchInstance
_END_OF_MIB = 0x82
_UNSIGNED = (0x41, 0x42, 0x43, 0x46, 0x47)  # Counter32, Gauge32, TimeTicks, Counter64, UInteger32
_ERRORS = {1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr", 6: "noAccess"}
MAX_MESSAGE = 65507


class BerError(ValueError):
    """The answer is not a well-formed SNMP message."""


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def _int(value: int) -> bytes:
    return _tlv(_INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def _oid(oid: Oid) -> bytes:
    if len(oid) < 2 or not 0 <= oid[0] <= 2 or (oid[0] < 2 and not 0 <= oid[1] < 40):
        raise ValueError(f"not an OID: {oid}")
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1], *oid[2:]):  # the first two arcs share one sub-identifier
        if arc < 0:
            raise ValueError(f"negative OID arc in {oid}")
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return _tlv(_OID, bytes(out))


def encode_request(
    community: bytes, pdu_tag: int, request_id: int, a: int, b: int, oids: Sequence[Oid]
) -> bytes:
    """A v2c message; for GETBULK `a`, `b` are non-repeaters and max-repetitions, else 0, 0."""
    return _tlv(_SEQUENCE, _int(1) + _tlv(_OCTETS, community) + encode_pdu(pdu_tag, request_id, a, b, oids))


def encode_pdu(pdu_tag: int, request_id: int, a: int, b: int, oids: Sequence[Oid]) -> bytes:
    """The PDU alone (also the payload of an SNMPv3 scoped PDU)."""
    binds = b"".join(_tlv(_SEQUENCE, _oid(oid) + b"\x05\x00") for oid in oids)
    return _tlv(pdu_tag, _int(request_id) + _int(a) + _int(b) + _tlv(_SEQUENCE, binds))


def _read(data: bytes, pos: int) -> tuple[int, int, int]:
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


MAX_ARC = 2**64 - 1  # SMIv2 arcs are 32-bit; a longer one is refused, never turned into a huge int


def _decode_oid(body: bytes) -> Oid:
    if not body:
        raise BerError("empty OID")
    subs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if value > MAX_ARC:
            raise BerError("OID arc too large")
        if not byte & 0x80:
            subs.append(value)
            value = 0
    if body[-1] & 0x80:
        raise BerError("OID ends inside an arc")
    first = min(subs[0] // 40, 2)
    return (first, subs[0] - 40 * first, *subs[1:])


def _value(tag: int, body: bytes) -> Any:
    if tag == _INTEGER:
        return int.from_bytes(body, "big", signed=True)
    if tag in _UNSIGNED:
        return int.from_bytes(body, "big")
    if tag == _OCTETS or tag == 0x44:  # OCTET STRING, Opaque
        return bytes(body)
    if tag == _OID:
        return ".".join(str(x) for x in _decode_oid(body))
    if tag == 0x40:  # IpAddress
        return ".".join(str(b) for b in body)
    if tag == _END_OF_MIB:
        return END_OF_MIB
    return None  # NULL, noSuchObject, noSuchInstance, unknown types


def decode_response(data: bytes) -> tuple[int, bytes, int, int, int, list[Bind]]:
    """(version, community, request id, error status, error index, binds)."""
    tag, pos, _ = _read(data, 0)
    if tag != _SEQUENCE:
        raise BerError("not a SEQUENCE")
    tag, start, stop = _read(data, pos)
    version = int.from_bytes(data[start:stop], "big", signed=True)
    tag, start, stop = _read(data, stop)
    community = data[start:stop]
    tag, request_id, status, index, binds = decode_pdu(data, stop)
    if tag != _RESPONSE:
        raise BerError(f"not a Response PDU (tag 0x{tag:02x})")
    return version, community, request_id, status, index, binds


def decode_pdu(data: bytes, pos: int) -> tuple[int, int, int, int, list[Bind]]:
    """The PDU at `pos`: (tag, request id, error status, error index, binds)."""
    tag, pos, end = _read(data, pos)
    pdu_tag = tag
    numbers = []
    for _ in range(3):
        tag, start, pos = _read(data, pos)
        numbers.append(int.from_bytes(data[start:pos], "big", signed=True))
    tag, pos, end = _read(data, pos)
    binds: list[Bind] = []
    while pos < end:
        _, inner, pos = _read(data, pos)
        tag, start, stop = _read(data, inner)
        oid = _decode_oid(data[start:stop])
        tag, start, stop = _read(data, stop)
        binds.append((oid, _value(tag, data[start:stop])))
    return pdu_tag, numbers[0], numbers[1], numbers[2], binds


def _request_id(data: bytes) -> int:
    return decode_response(data)[2]


class Protocol(asyncio.DatagramProtocol):
    """Hands each answer to the request waiting for its id (`key`: answer -> id)."""

    def __init__(self, key: Callable[[bytes], int] = _request_id) -> None:
        self.waiting: dict[int, asyncio.Future[bytes]] = {}
        self.refused = False
        self._key = key

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            request_id = self._key(data)
        except (BerError, IndexError, ValueError):
            return  # noise
        future = self.waiting.get(request_id)
        if future is not None and not future.done():
            future.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError):
            self.refused = True
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(SnmpError("port unreachable: no SNMP agent at this address/port"))


class V2cSession(Session):
    """One device over SNMPv2c. `async with await V2cSession.open(...)` closes the socket."""

    _ids = itertools.count(secrets.randbelow(1 << 30))

    def __init__(self, transport: asyncio.DatagramTransport, protocol: Protocol, community: bytes,
                 timeout: float, retries: int, max_rows: int) -> None:  # fmt: skip
        super().__init__(max_rows)
        self._transport = transport
        self._protocol = protocol
        self._community = community
        self._timeout = timeout
        self._retries = retries

    @classmethod
    async def open(cls, host: str, port: int, community: str, *, timeout: float, retries: int,
                   max_rows: int = 2048) -> V2cSession:  # fmt: skip
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(Protocol, remote_addr=(host, port))
        return cls(transport, protocol, community.encode(), timeout, retries, max_rows)

    def close(self) -> None:
        self._transport.close()

    async def _get(self, oids: Sequence[Oid]) -> list[Bind]:
        return await self._request(_GET, 0, 0, oids)

    async def _bulk(self, oids: Sequence[Oid], repetitions: int) -> list[Bind]:
        return await self._request(_BULK, 0, repetitions, oids)

    async def _request(self, pdu: int, a: int, b: int, oids: Sequence[Oid]) -> list[Bind]:
        request_id = next(self._ids) & 0x7FFFFFFF
        data = await self._exchange(request_id, encode_request(self._community, pdu, request_id, a, b, oids))
        try:
            version, community, _, status, index, binds = decode_response(data)
        except (BerError, IndexError, ValueError) as exc:
            raise SnmpError(f"malformed answer from the device: {exc}") from exc
        if version != 1 or community != self._community:
            raise SnmpError("answer with another SNMP version or community; dropped")
        check_status(status, index)
        return binds

    async def _exchange(self, request_id: int, message: bytes) -> bytes:
        """Send `message` (retransmitted after each timeout) until the answer keyed `request_id`."""
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._protocol.waiting[request_id] = future
        try:
            for _ in range(self._retries + 1):
                self._transport.sendto(message)
                try:
                    data = await asyncio.wait_for(asyncio.shield(future), self._timeout)
                    break
                except TimeoutError:
                    continue
            else:
                raise SnmpError(f"no answer within {self._timeout:g}s x {self._retries + 1} tries")
        finally:
            self._protocol.waiting.pop(request_id, None)
            if not future.done():
                future.cancel()
        return data


def check_status(status: int, index: int) -> None:
    if status:
        raise SnmpError(f"device answered with SNMP error {_ERRORS.get(status, status)} at {index}")
