"""The built-in SNMPv3/USM session: RFC key localisation, HMAC and AES on our own messages, and
real snmpd users (SHA-1, SHA-256, SHA-512; authPriv and authNoPriv) read the same as via pysnmp."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from devices_kit import MORE_V3_USERS, Snmpd, v3

from collectors.devices import ber, snmp_usm
from collectors.devices.poll import poll_devices
from collectors.devices.snmp_session import SnmpError


def test_key_localisation_matches_rfc3414_appendix_a3_2() -> None:
    engine = bytes.fromhex("000000000000000000000002")
    assert (
        snmp_usm.localize("sha1", b"maplesyrup", engine).hex() == "6695febc9288e36282235fc7151f128497b38f3f"
    )


def test_key_localisation_matches_rfc7860_sha256_vector() -> None:
    engine = bytes.fromhex("000000000000000000000002")
    assert snmp_usm.localize("sha256", b"maplesyrup", engine).hex() == (
        "8982e0e549e866db361a6b625d84cccc11162d453ee8ce3a6445c2d6776f0f8b"
    )


class _Echo(snmp_usm.UsmSession):
    """Sends nothing: hands the request it built back as the 'answer' (same keys both ways)."""

    async def _exchange(self, request_id: int, message: bytes) -> bytes:
        self.sent = message
        return message


def _session(priv_key: str) -> _Echo:
    session = _Echo(None, None, 1.0, 0, 10, user="u", auth="SHA-256", auth_key="auth-pass-phrase",
                    priv_key=priv_key, context="")  # type: ignore[arg-type]  # fmt: skip
    session._engine = b"\x80\x00\x1f\x88\x04engine"
    session._keys = (
        snmp_usm.localize("sha256", b"auth-pass-phrase", session._engine),
        snmp_usm.localize("sha256", priv_key.encode(), session._engine)[:16] if priv_key else None,
    )
    return session


def _sent(session: _Echo) -> bytes:
    pdu = snmp_usm.encode_pdu(0xA0, 4711, 0, 0, [(1, 3, 6, 1, 2, 1, 1, 5, 0)])
    asyncio.run(session._send(4711, pdu, secure=True))
    return session.sent


@pytest.mark.parametrize("priv_key", ["priv-pass-phrase", ""])
def test_own_message_authenticates_decrypts_and_any_flipped_byte_fails(priv_key: str) -> None:
    session = _session(priv_key)
    message = _sent(session)
    key = session._keys[0]
    answer = snmp_usm.UsmMessage(message)
    assert answer.msg_id == 4711 and answer.user == b"u"
    assert answer.authentic(key, "sha256", 24)
    tag, request_id, _, _, binds = answer.scoped_pdu(session._keys[1])
    assert (tag, request_id, binds) == (0xA0, 4711, [((1, 3, 6, 1, 2, 1, 1, 5, 0), None)])
    assert not answer.authentic(b"another key" * 3, "sha256", 24)
    for at in (len(message) - 1, len(message) // 2, 30):
        tampered = bytearray(message)
        tampered[at] ^= 0x01
        with contextlib.suppress(snmp_usm.BerError):  # a flip in a length field: not even parsed
            assert not snmp_usm.UsmMessage(bytes(tampered)).authentic(key, "sha256", 24)
    if priv_key:
        assert b"\x2b\x06\x01\x02\x01\x01\x05\x00" not in message  # the OID travels encrypted
        wrong = snmp_usm.localize("sha256", b"not-the-key", session._engine)[:16]
        with contextlib.suppress(snmp_usm.BerError, IndexError, ValueError):  # garbage, as a rule
            assert answer.scoped_pdu(wrong) != (0xA0, 4711, 0, 0, binds)


def test_salt_differs_for_every_message() -> None:
    session = _session("priv-pass-phrase")
    salts = {snmp_usm.UsmMessage(_sent(session)).salt for _ in range(5)}
    assert len(salts) == 5


@pytest.mark.parametrize("user", sorted(MORE_V3_USERS))
def test_snmpd_users_read_the_same_natively_as_through_pysnmp(snmpd: Snmpd, user: str) -> None:
    auth, priv = MORE_V3_USERS[user]
    device = v3(user, snmpd, snmpd.auth_key_file, snmpd.priv_key_file)
    assert device.snmp is not None
    snmp = replace(device.snmp, user=user, auth_protocol=auth, priv_protocol=priv,
                   priv_key_file=snmpd.priv_key_file if priv != "none" else "")  # type: ignore[arg-type]  # fmt: skip
    device = replace(device, snmp=snmp)
    assert snmp_usm.supports(auth, priv)
    [native] = poll_devices([device])
    [through_pysnmp] = poll_devices([device], v2c_engine="pysnmp")
    assert native.up, native.reason
    assert native.system is not None and native.system.name == "lab-router"
    assert native.system == replace(through_pysnmp.system, uptime_seconds=native.system.uptime_seconds)  # type: ignore[arg-type]
    assert [i.name for i in native.interfaces] == [i.name for i in through_pysnmp.interfaces]
    assert [s.descr for s in native.storage] == [s.descr for s in through_pysnmp.storage]
    assert not native.warnings


def test_unknown_user_is_refused_with_a_clear_reason(snmpd: Snmpd) -> None:
    device = v3("stranger", snmpd, snmpd.auth_key_file, snmpd.priv_key_file)
    assert device.snmp is not None
    [result] = poll_devices([replace(device, snmp=replace(device.snmp, user="nobody-here"))])
    assert not result.up
    assert "user unknown to the device" in result.reason


def test_empty_pass_phrase_is_an_error_not_a_weak_key() -> None:
    with pytest.raises(SnmpError, match="empty"):
        snmp_usm.localize("sha256", b"", b"engine")


def test_protocols_left_to_pysnmp() -> None:
    kept: list[Any] = [("MD5", "AES"), ("SHA-256", "DES"), ("SHA-256", "AES-256"), ("none", "none")]
    assert not any(snmp_usm.supports(a, p) for a, p in kept)


def _forger(tamper: bool) -> Callable[[bytes], bytes]:
    """A device that names its engine, then answers every request by echoing it back (a replay
    of our own authenticated message), with one byte of the encrypted payload flipped if `tamper`."""

    def respond(data: bytes) -> bytes:
        answer = snmp_usm.UsmMessage(data)
        if answer.engine_id:  # an authPriv request
            out = bytearray(data)
            out[-1] ^= 0x01 if tamper else 0x00
            return bytes(out)
        engine = b"\x80\x00\x1f\x88\x04forged"
        usm = ber.tlv(0x30, ber.tlv(0x04, engine) + ber.encode_int(1) + ber.encode_int(100) + b"\x04\x00" * 3)
        stats = ber.tlv(0x30, b"\x06\x0a\x2b\x06\x01\x06\x03\x0f\x01\x01\x04\x00" + b"\x41\x01\x01")
        pdu = ber.tlv(0xA8, ber.encode_int(1) + ber.encode_int(0) + ber.encode_int(0) + ber.tlv(0x30, stats))
        ids = ber.encode_int(answer.msg_id) + ber.encode_int(65507)
        header = ber.tlv(0x30, ids + b"\x04\x01\x00" + ber.encode_int(3))
        scoped = ber.tlv(0x30, ber.tlv(0x04, engine) + b"\x04\x00" + pdu)
        return ber.tlv(0x30, ber.encode_int(3) + header + ber.tlv(0x04, usm) + scoped)

    return respond


@pytest.fixture()
def udp_responder() -> Iterator[Callable[[Callable[[bytes], bytes]], int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()
    handler: list[Callable[[bytes], bytes]] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            sock.sendto(handler[0](data), peer)

    def start(respond: Callable[[bytes], bytes]) -> int:
        handler.append(respond)
        threading.Thread(target=serve, daemon=True).start()
        return int(sock.getsockname()[1])

    yield start
    stop.set()
    time.sleep(0.3)
    sock.close()


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [(True, "authentication failed"), (False, "does not match the request")],
)
def test_forged_or_replayed_answers_never_become_data(
    snmpd: Snmpd, udp_responder: Callable[[Callable[[bytes], bytes]], int], tamper: bool, reason: str
) -> None:
    port = udp_responder(_forger(tamper))
    device = v3("forged", snmpd, snmpd.auth_key_file, snmpd.priv_key_file)
    [result] = poll_devices([replace(device, address=f"127.0.0.1:{port}")])
    assert not result.up
    assert reason in result.reason
