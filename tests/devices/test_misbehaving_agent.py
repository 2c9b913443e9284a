"""A buggy agent (no real one misbehaves on demand): a tiny UDP responder built on pysnmp's
own message classes that answers every GETBULK with the same, non-increasing OID. The walk
must stop with a warning instead of looping for ever."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from collectors.devices.config import DeviceConfig, SnmpConfig
from collectors.devices.poll import poll_devices

STUCK_OID = "1.3.6.1.2.1.2.2.1.2.5"


def answer(request: bytes) -> bytes:
    msg, _ = decoder.decode(request, asn1Spec=v2c.Message())
    pdu = v2c.apiMessage.get_pdu(msg)
    response = v2c.apiPDU.get_response(pdu)
    asked = [str(oid) for oid, _ in v2c.apiPDU.get_varbinds(pdu)]
    if asked and asked[0].startswith("1.3.6.1.2.1.1."):  # the system group: answer it
        binds = [(oid, v2c.OctetString(b"buggy")) for oid in asked]
    else:  # every walk: the same row again and again
        binds = [(STUCK_OID, v2c.OctetString(b"eth0"))] * 3
    v2c.apiPDU.set_varbinds(response, binds)
    v2c.apiMessage.set_pdu(msg, response)
    return bytes(encoder.encode(msg))


@pytest.fixture()
def buggy_agent() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            sock.sendto(answer(data), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(2)
    sock.close()


def test_walk_stops_on_a_non_increasing_oid(buggy_agent: int, tmp_path: Path) -> None:
    community = tmp_path / "community"
    community.write_text("public\n")
    community.chmod(0o600)
    snmp = SnmpConfig(version="2c", community_file=str(community), timeout=3)
    [result] = poll_devices([DeviceConfig("buggy", "switch", f"127.0.0.1:{buggy_agent}", snmp=snmp)])
    assert result.up, result.reason
    assert any("non-increasing OID; walk stopped" in w for w in result.warnings)
    assert result.duration_seconds < 2.0  # stopped at once, not by the budget
