"""Fuzzing the built-in SNMP codec (snmp_v2c's BER, snmp_usm's v3 messages) with Hypothesis.

What a device (or anyone on the path) sends is arbitrary bytes: the decoders either return or
raise BerError, the codec's own error, never IndexError, RecursionError or a conversion error
(an OID arc of thousands of digits used to escape as ValueError from `str(int)`). Well-formed
messages round-trip, checked against pyasn1/pysnmp's encoder and decoder as the other side.
The example count comes from the Hypothesis profile (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from collectors.devices.ber import (
    GET,
    GET_BULK,
    MAX_ARC,
    OBJECT_IDENTIFIER,
    RESPONSE,
    SEQUENCE,
    BerError,
    decode_pdu,
    encode_int,
    encode_pdu,
    encode_v2c_message,
    tlv,
)
from collectors.devices.snmp_session import END_OF_MIB
from collectors.devices.snmp_usm import AUTH, UsmMessage, _report_reason, encode_message, message_id
from collectors.devices.snmp_v2c import decode_response

ARC = st.integers(0, 2**32 - 1)
OIDS = st.one_of(st.tuples(st.integers(0, 1), st.integers(0, 39)), st.tuples(st.just(2), ARC)).flatmap(
    lambda head: st.lists(ARC, max_size=16).map(lambda tail: (*head, *tail))
)
INT32 = st.integers(-(2**31), 2**31 - 1)


def decodes_or_refuses(data: bytes) -> None:
    """Every decoder entry point on `data`: a result or BerError, nothing else."""
    for decode in (decode_response, lambda d: decode_pdu(d, 0), message_id):
        with contextlib.suppress(BerError):
            decode(data)
    try:
        answer = UsmMessage(data)
    except BerError:
        return
    for key in (None, bytes(16)):
        try:
            binds = answer.scoped_pdu(key)[4]
        except BerError:
            continue
        assert isinstance(_report_reason(binds), str)
    assert answer.authentic(bytes(20), "sha1", 12) in (True, False)


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_only_ever_raise_the_codec_error(data: bytes) -> None:
    decodes_or_refuses(data)


def v2c_message() -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda community, tag, rid, a, b, oids: encode_v2c_message(community, tag, rid, a, b, oids),
        st.binary(max_size=16), st.sampled_from([GET, GET_BULK, RESPONSE]), INT32,
        st.integers(0, 127), st.integers(0, 127), st.lists(OIDS, max_size=6),
    )  # fmt: skip


def v3_message() -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda rid, oids, engine, user, secure, salt: encode_message(
            rid, encode_pdu(RESPONSE, rid, 0, 0, oids), engine=engine, boots=1, engine_time=2,
            user=user, context=b"", auth=(bytes(32), "sha256", 24) if secure else None,
            priv_key=bytes(16) if secure else None, salt=salt, reportable=False,
        ),
        INT32, st.lists(OIDS, max_size=4), st.binary(min_size=1, max_size=32), st.binary(max_size=16),
        st.booleans(), st.binary(min_size=8, max_size=8),
    )  # fmt: skip


MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "cut", "insert", "delete"]), st.integers(0, 4096), st.integers(0, 255)
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, steps: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for op, where, byte in steps:
        at = where % (len(out) + 1)
        if op == "flip" and at < len(out):
            out[at] = byte
        elif op == "cut":
            del out[at:]
        elif op == "insert":
            out[at:at] = bytes((byte,))
        elif op == "delete" and at < len(out):
            del out[at]
    return bytes(out)


@given(st.one_of(v2c_message(), v3_message()), MUTATIONS)
def test_damaged_messages_only_ever_raise_the_codec_error(
    message: bytes, steps: list[tuple[str, int, int]]
) -> None:
    decodes_or_refuses(mutate(message, steps))


@given(st.integers(0, 4000))
def test_an_oid_arc_of_thousands_of_digits_is_refused_not_converted(septets: int) -> None:
    arc = (1 << (7 * septets)) | 1  # septets + 1 base-128 digits
    body = b"\x2b" + b"\x81" + b"\x80" * (septets - 1) + b"\x01" if septets else b"\x2b\x01"
    binds = tlv(SEQUENCE, tlv(SEQUENCE, tlv(OBJECT_IDENTIFIER, body) + tlv(OBJECT_IDENTIFIER, body)))
    pdu = tlv(RESPONSE, encode_int(1) + encode_int(0) + encode_int(0) + binds)
    if arc > MAX_ARC:
        with pytest.raises(BerError, match="arc too large"):
            decode_pdu(pdu, 0)
    else:
        [(oid, value)] = decode_pdu(pdu, 0)[4]
        assert oid == (1, 3, arc) and value == f"1.3.{arc}"


@given(st.binary(max_size=16), st.sampled_from([GET, GET_BULK]), INT32, st.integers(0, 2**31 - 1),
       st.integers(0, 2**31 - 1), st.lists(OIDS, max_size=8))  # fmt: skip
def test_requests_decode_the_same_in_pyasn1(
    community: bytes, tag: int, rid: int, a: int, b: int, oids: list[tuple[int, ...]]
) -> None:
    wire = encode_v2c_message(community, tag, rid, a, b, oids)
    msg, rest = decoder.decode(wire, asn1Spec=v2c.Message())
    assert rest == b""
    pdu = v2c.apiMessage.get_pdu(msg)
    assert bytes(v2c.apiMessage.get_community(msg)) == community
    assert int(v2c.apiPDU.get_request_id(pdu)) == rid
    assert [tuple(o) for o, _ in v2c.apiPDU.get_varbinds(pdu)] == oids


def dotted(oid: tuple[int, ...]) -> str:
    return ".".join(map(str, oid))


VALUES: st.SearchStrategy[tuple[Any, Any]] = st.one_of(
    INT32.map(lambda n: (v2c.Integer(n), n)),
    st.binary(max_size=64).map(lambda b: (v2c.OctetString(b), b)),
    OIDS.map(lambda o: (v2c.ObjectIdentifier(o), dotted(o))),
    st.binary(min_size=4, max_size=4).map(lambda b: (v2c.IpAddress(b), ".".join(map(str, b)))),
    st.tuples(st.sampled_from(["Counter32", "Gauge32", "TimeTicks"]), st.integers(0, 2**32 - 1)).map(
        lambda kind_n: (getattr(v2c, kind_n[0])(kind_n[1]), kind_n[1])
    ),
    st.integers(0, 2**64 - 1).map(lambda n: (v2c.Counter64(n), n)),
    st.sampled_from(["Null", "NoSuchObject", "NoSuchInstance", "EndOfMibView"]).map(
        lambda kind: (getattr(v2c, kind)(), END_OF_MIB if kind == "EndOfMibView" else None)
    ),
)


@given(st.binary(max_size=16), INT32, st.integers(0, 18), st.lists(st.tuples(OIDS, VALUES), max_size=8))
def test_responses_pyasn1_encodes_decode_to_the_same_values(
    community: bytes, rid: int, status: int, binds: list[tuple[tuple[int, ...], tuple[Any, Any]]]
) -> None:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, rid)
    v2c.apiPDU.set_error_status(pdu, status)
    v2c.apiPDU.set_varbinds(pdu, [(oid, value) for oid, (value, _) in binds])
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, community)
    v2c.apiMessage.set_pdu(msg, pdu)
    version, got_community, got_rid, got_status, _, got = decode_response(bytes(encoder.encode(msg)))
    assert (version, got_community, got_rid, got_status) == (1, community, rid, status)
    assert got == [(oid, expected) for oid, (_, expected) in binds]


@given(INT32, st.lists(OIDS, max_size=6), st.binary(min_size=1, max_size=32), st.binary(max_size=32),
       st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1), st.sampled_from(sorted(AUTH)),
       st.booleans(), st.binary(min_size=8, max_size=8))  # fmt: skip
def test_v3_messages_round_trip_authenticate_and_decrypt(
    rid: int, oids: list[tuple[int, ...]], engine: bytes, user: bytes, boots: int, engine_time: int,
    auth: str, private: bool, salt: bytes,
) -> None:  # fmt: skip
    hash_name, size = AUTH[auth]
    key = hashlib.new(hash_name, engine).digest()
    priv_key = key[:16] if private and len(key) >= 16 else None
    pdu = encode_pdu(RESPONSE, rid, 0, 0, oids)
    wire = encode_message(
        rid, pdu, engine=engine, boots=boots, engine_time=engine_time, user=user, context=b"",
        auth=(key, hash_name, size), priv_key=priv_key, salt=salt, reportable=False,
    )  # fmt: skip
    answer = UsmMessage(wire)
    assert (answer.msg_id, answer.engine_id, answer.user) == (rid, engine, user)
    assert (answer.boots, answer.time) == (boots, engine_time)
    assert answer.authentic(key, hash_name, size)
    assert not answer.authentic(bytes(len(key)), hash_name, size)
    tag, got_rid, status, index, binds = answer.scoped_pdu(priv_key)
    assert (tag, got_rid, status, index) == (RESPONSE, rid, 0, 0)
    assert [oid for oid, _ in binds] == oids and message_id(wire) == rid
