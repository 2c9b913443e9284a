"""SNMPv2c over asyncio on the built-in BER codec (`collectors.devices.ber`).

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

from collectors.devices import ber
from collectors.devices.ber import BerError
from collectors.devices.snmp_session import Bind, Oid, Session, SnmpError, TooBig

_ERRORS = {1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr", 6: "noAccess"}


def decode_response(data: bytes) -> tuple[int, bytes, int, int, int, list[Bind]]:
    """A v2c Response: (version, community, request id, error status, error index, binds)."""
    version, community, tag, request_id, status, index, binds = ber.decode_v2c_message(data)
    if tag != ber.RESPONSE:
        raise BerError(f"not a Response PDU (tag 0x{tag:02x})")
    return version, community, request_id, status, index, binds


class Protocol(asyncio.DatagramProtocol):
    """Hands each answer to the request waiting for its id (`key`: answer -> id)."""

    def __init__(self, key: Callable[[bytes], int] = ber.v2c_request_id) -> None:
        self.waiting: dict[int, asyncio.Future[bytes | None]] = {}
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
        return await self._request(ber.GET, 0, 0, oids)

    async def _bulk(self, oids: Sequence[Oid], repetitions: int) -> list[Bind]:
        return await self._request(ber.GET_BULK, 0, repetitions, oids)

    async def _request(self, pdu: int, a: int, b: int, oids: Sequence[Oid]) -> list[Bind]:
        request_id = next(self._ids) & 0x7FFFFFFF
        message = ber.encode_v2c_message(self._community, pdu, request_id, a, b, oids)
        data = await self._exchange(request_id, message)
        try:
            version, community, _, status, index, binds = decode_response(data)
        except (BerError, IndexError, ValueError) as exc:
            raise SnmpError(f"malformed answer from the device: {exc}") from exc
        if version != 1 or community != self._community:
            raise SnmpError("answer with another SNMP version or community; dropped")
        check_status(status, index)
        return binds

    async def _exchange(self, request_id: int, message: bytes) -> bytes:
        """Send `message` (retransmitted after each timeout) until the answer keyed `request_id`.

        One future and one timer per try, nothing more: a round sends thousands of requests, and
        `asyncio.wait_for(asyncio.shield(...))` would add a task-like wrapper and callbacks each."""
        loop = asyncio.get_running_loop()
        waiting = self._protocol.waiting
        try:
            for _ in range(self._retries + 1):
                future: asyncio.Future[bytes | None] = loop.create_future()
                waiting[request_id] = future
                timer = loop.call_later(self._timeout, _expire, future)
                self._transport.sendto(message)
                try:
                    data = await future
                finally:
                    timer.cancel()
                if data is not None:
                    return data
            raise SnmpError(f"no answer within {self._timeout:g}s x {self._retries + 1} tries")
        finally:
            waiting.pop(request_id, None)


def _expire(future: asyncio.Future[bytes | None]) -> None:
    """A try's time is up: wake its request with no answer (None)."""
    if not future.done():
        future.set_result(None)


def check_status(status: int, index: int) -> None:
    if status:
        kind = TooBig if status == 1 else SnmpError
        raise kind(f"device answered with SNMP error {_ERRORS.get(status, status)} at {index}")
