"""Floods against the trap receiver (serial: it sends as fast as one core allows): the rate
limit per source holds, memory stays fixed (source table, queue, events), and a device that is
not flooding still gets its UPS-on-battery through at once."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from devices_kit import free_udp_port, secret
from testkit import AgentProcess, free_port, wait_for

from agent.config.schema import Config
from agent.device_events import read
from agent.records.events import MAX_EVENTS
from agent.state import State
from agent.traps.receiver import TrapReceiver
from collectors.devices.ber import OCTET_STRING, SEQUENCE, encode_int, encode_oid, tlv
from collectors.devices.config import DeviceConfig, SnmpConfig, TrapsConfig

COMMUNITY = "flood-c0mmunity"
RATE, BURST, SOURCES, QUEUE = 5.0, 20, 64, 32
COLD_START, ON_BATTERY = (1, 3, 6, 1, 6, 3, 1, 1, 5, 1), (1, 3, 6, 1, 2, 1, 33, 2, 1)


def v2c_trap(community: str, trap: tuple[int, ...]) -> bytes:
    """A well-formed SNMPv2-Trap-PDU: sysUpTime.0, snmpTrapOID.0."""
    binds = tlv(SEQUENCE, encode_oid((1, 3, 6, 1, 2, 1, 1, 3, 0)) + tlv(0x43, b"\x01")) + tlv(
        SEQUENCE, encode_oid((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)) + encode_oid(trap)
    )
    pdu = tlv(0xA7, encode_int(1) + encode_int(0) + encode_int(0) + tlv(SEQUENCE, binds))
    return tlv(SEQUENCE, encode_int(1) + tlv(OCTET_STRING, community.encode()) + pdu)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[TrapReceiver, State, int, list[str]]]:
    community = secret(tmp_path / "c", COMMUNITY)
    devices = tuple(
        DeviceConfig(name, "ups", f"{address}:161", snmp=SnmpConfig(version="2c", community_file=community))
        for name, address in (("flooder", "127.0.0.1"), ("quiet-ups", "127.0.0.3"))
    )
    port = free_udp_port()
    traps = TrapsConfig(listen=f"127.0.0.1:{port}", rate=RATE, burst=BURST, max_sources=SOURCES, queue=QUEUE)
    state = State.open(tmp_path / "state")
    backups: list[str] = []

    def request_run(job: str) -> str:
        backups.append(job)
        return "started"

    receiving = TrapReceiver(Config(devices=devices, devices_traps=traps), state, tmp_path / "state",
                             request_run, flush_seconds=0.2).start()  # fmt: skip
    yield receiving, state, port, backups
    receiving.close()
    state.close()


def flood(port: int, datagram: bytes, stop: threading.Event, source: str = "127.0.0.1") -> int:
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        while not stop.is_set():
            for _ in range(100):
                sock.sendto(datagram, ("127.0.0.1", port))
            sent += 100
    return sent


def test_a_flood_from_one_device_is_held_to_its_rate_and_another_ups_still_gets_through(
    receiver: tuple[TrapReceiver, State, int, list[str]],
) -> None:
    _, state, port, backups = receiver
    stop, sent = threading.Event(), [0]
    flooder = threading.Thread(
        target=lambda: sent.__setitem__(0, flood(port, v2c_trap(COMMUNITY, COLD_START), stop))
    )
    started = time.monotonic()
    flooder.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
            quiet.bind(("127.0.0.3", 0))
            on_battery = v2c_trap(COMMUNITY, ON_BATTERY)

            def got_through() -> bool:
                quiet.sendto(on_battery, ("127.0.0.1", port))  # UDP: the flood may fill the socket buffer
                return any(e.kind == "on_battery" for e in read(state).events)

            wait_for(got_through, 30, "the quiet UPS's trap during the flood")
            time.sleep(1.0)  # the flood goes on a little longer
    finally:
        stop.set()
        flooder.join()
    elapsed = time.monotonic() - started
    assert backups == ["backup"], "BAK-6 during the flood, once"
    events = wait_for(lambda: (e := read(state)) and e.dropped.get("rate_limited", 0) > 0 and e, 10, "counts")
    received = events.received.get("cold_start", 0)
    assert sent[0] > 10 * (BURST + RATE * elapsed), "it was a flood"
    assert 0 < received <= BURST + RATE * elapsed + 1, (received, elapsed)
    assert len(events.events) <= MAX_EVENTS


def test_spoofed_sources_get_no_table_entry_and_are_counted_unknown(
    receiver: tuple[TrapReceiver, State, int, list[str]],
) -> None:
    receiving, state, port, _ = receiver
    datagram = v2c_trap(COMMUNITY, COLD_START)
    for n in range(4 * SOURCES):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((f"127.0.9.{n % 250 + 1}" if n < 250 else f"127.0.10.{n - 249}", 0))
            sock.sendto(datagram, ("127.0.0.1", port))
    events = wait_for(
        lambda: (e := read(state)) and e.dropped.get("unknown_source", 0) > 0 and e, 10, "counts"
    )
    wait_for(lambda: read(state).dropped.get("unknown_source", 0) >= 3 * SOURCES, 10, "most of them counted")
    assert len(receiving._table) <= 2, "only configured devices get a bucket"
    assert not events.received, "nothing from an unknown source is accepted"
    assert receiving._queue.maxsize == QUEUE


def settled(process: psutil.Process) -> bool:
    before = process.memory_info().rss
    time.sleep(1.0)
    return abs(process.memory_info().rss - before) < 256 * 1024


def test_the_running_agent_answers_and_keeps_its_memory_during_a_flood(tmp_path: Path) -> None:
    http, traps = free_port(), free_udp_port()
    community = secret(tmp_path / "community", COMMUNITY)
    path = tmp_path / "hostward.yaml"
    path.write_text(
        f"version: 1\nstate_dir: {tmp_path / 'state'}\n"
        f'exporter: {{listen: "127.0.0.1:{http}"}}\n'
        "collect: {schedule: {every: 1h}}\naudit: {schedule: {every: 1h}}\n"
        "devices_schedule: {poll: {every: 1h}, power: {every: 1h}}\n"
        f'devices:\n  - {{name: ups-1, kind: ups, address: "127.0.0.1:{free_udp_port()}",'
        f' snmp: {{version: "2c", community_file: "{community}", timeout: 1s}}}}\n'
        f'devices_traps: {{listen: "127.0.0.1:{traps}"}}\n',
        encoding="utf-8",
    )
    agent = AgentProcess(tmp_path, path)
    try:
        url = agent.url()

        def metrics() -> str:
            with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:
                return str(answer.read().decode())

        agent.wait_for(lambda: "hostward_device_up" in metrics(), what="the first round")
        process = psutil.Process(agent.proc.pid)
        metrics()  # the exporter's first answers allocate; the start-up jobs settle
        wait_for(lambda: settled(process), 60, "the agent's start-up jobs done (resident memory steady)")
        stop, sent = threading.Event(), [0]
        flooder = threading.Thread(
            target=lambda: sent.__setitem__(0, flood(traps, v2c_trap(COMMUNITY, COLD_START), stop))
        )
        flooder.start()
        try:
            answers = [metrics() for _ in range(5)]  # the exporter answers while the flood goes on
            rss = process.memory_info().rss  # after the scrapes: their buffers are not the flood's
            time.sleep(3.0)
            grown = process.memory_info().rss - rss
        finally:
            stop.set()
            flooder.join()
        assert all("hostward_traps_received_total" in a for a in answers)
        limited = 'hostward_traps_dropped_total{reason="rate_limited"}'
        agent.wait_for(
            lambda: any(
                line.startswith(limited) and not line.endswith(" 0.0") for line in metrics().splitlines()
            ),
            what="drops counted",
        )
        assert sent[0] > 10_000, "it was a flood"
        assert grown < 4 * 2**20, f"resident memory grew by {grown} bytes during the flood"
    finally:
        assert agent.stop() == 0
