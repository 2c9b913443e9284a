"""A table's columns are read together, a bounded number of values per GETBULK, and a device
that answers tooBig is read column by column. The agent here is a tiny UDP responder built on
pysnmp's own message classes (no real agent answers tooBig on demand) serving a 30-row,
three-column table the way RFC 3416 4.2.3 says (row after row, each requested column in turn)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from collectors.devices.snmp_session import MAX_BINDS
from collectors.devices.snmp_v2c import V2cSession

BASE = (1, 3, 6, 1, 2, 1, 2, 2, 1)
ROWS = 30
TABLE = (("descr", "1.3.6.1.2.1.2.2.1.2"), ("oper_status", "1.3.6.1.2.1.2.2.1.8"),
         ("in_errors", "1.3.6.1.2.1.2.2.1.14"))  # fmt: skip
MIB = sorted(
    [((*BASE, 2, row), v2c.OctetString(f"port {row}".encode())) for row in range(1, ROWS + 1)]
    + [((*BASE, 8, row), v2c.Integer(1 + row % 2)) for row in range(1, ROWS + 1)]
    + [((*BASE, 14, row), v2c.Counter32(row * 7)) for row in range(1, ROWS + 1)]
    + [((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1, 1), v2c.OctetString(b"next table"))]
)


def next_after(oid: tuple[int, ...]) -> tuple[tuple[int, ...], object]:
    for name, value in MIB:
        if name > oid:
            return name, value
    return oid, v2c.EndOfMibView()


@dataclass
class Agent:
    port: int = 0
    too_big_for_several: bool = False
    asked: list[tuple[int, int]] = field(default_factory=list)  # (columns, repetitions) per GETBULK

    def answer(self, request: bytes) -> bytes:
        msg, _ = decoder.decode(request, asn1Spec=v2c.Message())
        pdu = v2c.apiMessage.get_pdu(msg)
        response = v2c.apiPDU.get_response(pdu)
        asked = [tuple(oid) for oid, _ in v2c.apiPDU.get_varbinds(pdu)]
        reps = int(v2c.apiBulkPDU.get_max_repetitions(pdu))
        self.asked.append((len(asked), reps))
        if self.too_big_for_several and len(asked) > 1:
            v2c.apiPDU.set_error_status(response, 1)  # tooBig
            v2c.apiPDU.set_varbinds(response, [(oid, v2c.Null()) for oid in asked])
        else:
            binds, last = [], list(asked)
            for _ in range(reps):
                for i, oid in enumerate(last):
                    name, value = next_after(oid)
                    binds.append((name, value))
                    last[i] = name
            v2c.apiPDU.set_varbinds(response, binds)
        v2c.apiMessage.set_pdu(msg, response)
        return bytes(encoder.encode(msg))


@pytest.fixture()
def agent() -> Iterator[Agent]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    state = Agent(int(sock.getsockname()[1]))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            sock.sendto(state.answer(data), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield state
    stop.set()
    thread.join(2)
    sock.close()


def walk(port: int) -> dict[str, dict[str, object]]:
    async def run() -> dict[str, dict[str, object]]:
        session = await V2cSession.open("127.0.0.1", port, "public", timeout=2, retries=0)
        try:
            return await session.walk(TABLE)
        finally:
            session.close()

    return asyncio.run(run())


def expected() -> dict[str, dict[str, object]]:
    return {
        "descr": {str(r): f"port {r}".encode() for r in range(1, ROWS + 1)},
        "oper_status": {str(r): 1 + r % 2 for r in range(1, ROWS + 1)},
        "in_errors": {str(r): r * 7 for r in range(1, ROWS + 1)},
    }


def test_the_columns_of_a_table_are_read_together_in_bounded_requests(agent: Agent) -> None:
    assert walk(agent.port) == expected()
    assert all(columns * reps <= MAX_BINDS for columns, reps in agent.asked), agent.asked
    assert agent.asked[0][0] == len(TABLE)
    # 90 values, 21 rows of 3 columns a request: two requests, where column by column took six
    assert len(agent.asked) == 2, agent.asked


def test_a_device_that_answers_too_big_is_read_column_by_column(agent: Agent) -> None:
    agent.too_big_for_several = True
    assert walk(agent.port) == expected()
    assert agent.asked[0][0] == len(TABLE)
    assert {columns for columns, _ in agent.asked[1:]} == {1}
