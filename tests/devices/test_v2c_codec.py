"""The built-in SNMPv2c codec, checked against pyasn1/pysnmp's own encoder and decoder."""

from __future__ import annotations

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from collectors.devices.ber import GET_BULK, BerError, encode_v2c_message
from collectors.devices.snmp_session import END_OF_MIB
from collectors.devices.snmp_v2c import decode_response


def pysnmp_response(request_id: int, binds: list[tuple[str, object]], status: int = 0) -> bytes:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_error_status(pdu, status)
    v2c.apiPDU.set_varbinds(pdu, binds)
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, b"c0mm")
    v2c.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def test_request_encodes_what_pysnmp_decodes() -> None:
    wire = encode_v2c_message(
        b"c0mm",
        GET_BULK,
        2**31 - 5,
        0,
        25,
        [(1, 3, 6, 1, 2, 1, 2, 2, 1, 10), (1, 3, 6, 1, 4, 1, 2011, 300000)],
    )
    msg, rest = decoder.decode(wire, asn1Spec=v2c.Message())
    assert rest == b""
    pdu = v2c.apiMessage.get_pdu(msg)
    assert bytes(v2c.apiMessage.get_community(msg)) == b"c0mm"
    assert int(v2c.apiBulkPDU.get_request_id(pdu)) == 2**31 - 5
    assert int(v2c.apiBulkPDU.get_max_repetitions(pdu)) == 25
    oids = [str(o) for o, _ in v2c.apiBulkPDU.get_varbinds(pdu)]
    assert oids == ["1.3.6.1.2.1.2.2.1.10", "1.3.6.1.4.1.2011.300000"]


def test_response_types_decode_to_plain_values() -> None:
    wire = pysnmp_response(77, [
        ("1.3.6.1.2.1.1.1.0", v2c.OctetString("机房".encode())),
        ("1.3.6.1.2.1.1.2.0", v2c.ObjectIdentifier("1.3.6.1.4.1.8072.3.2.10")),
        ("1.3.6.1.2.1.1.3.0", v2c.TimeTicks(4294967295)),
        ("1.3.6.1.2.1.31.1.1.1.6.1", v2c.Counter64(2**64 - 1)),
        ("1.3.6.1.2.1.4.20.1.1.10.0.0.1", v2c.IpAddress("10.0.0.1")),
        ("1.3.6.1.2.1.99.1.1.1.4.1", v2c.Integer(-40)),
        ("1.3.6.1.2.1.1.9.0", v2c.NoSuchInstance()),
        ("1.3.6.1.2.1.1.10.0", v2c.EndOfMibView()),
    ])  # fmt: skip
    version, community, request_id, status, _, binds = decode_response(wire)
    assert (version, community, request_id, status) == (1, b"c0mm", 77, 0)
    values = [v for _, v in binds]
    assert values == [
        "机房".encode(),
        "1.3.6.1.4.1.8072.3.2.10",
        4294967295,
        2**64 - 1,
        "10.0.0.1",
        -40,
        None,
        END_OF_MIB,
    ]
    assert binds[4][0] == (1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 10, 0, 0, 1)


def test_error_status_is_carried_and_garbage_is_refused() -> None:
    *_, status, index, _ = decode_response(pysnmp_response(1, [("1.3.6.1.2.1.1.1.0", v2c.Null())], status=5))
    assert (status, index) == (5, 0)
    for junk in (b"", b"\x30\x05\x02\x01", b"\x04\x00", pysnmp_response(1, [])[:-3]):
        with pytest.raises((BerError, IndexError, ValueError)):
            decode_response(junk)
