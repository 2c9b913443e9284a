"""`python -m bench.traps`: the SNMP trap receiver's cost.

1. Idle: two real agents (`hostward run`, the same config but for `devices_traps`), side by
   side for `IDLE_SECONDS` (60; env BENCH_TRAPS_IDLE): the CPU seconds of each process. Budget:
   the receiver adds at most `IDLE_BUDGET` CPU seconds a minute (it blocks in recvfrom).
2. Flood: a receiver in this process, datagrams sent by a child process (its CPU is not
   counted): CPU seconds per 1000 traps for v2c traps rate-limited (dropped), v2c traps
   accepted (each applied: state, event, journal) and SNMPv3 authPriv traps accepted.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
IDLE_SECONDS = float(os.environ.get("BENCH_TRAPS_IDLE", "60"))
IDLE_BUDGET = 0.05  # CPU seconds a minute
COMMUNITY, AUTH, PRIV = "bench-c0mmunity", "bench-auth-phrase", "bench-priv-phrase"
SENDER = textwrap.dedent(
    """
    import socket, sys, time
    port, count, source = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    data = bytes.fromhex(sys.stdin.read())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        for n in range(count):
            sock.sendto(data, ("127.0.0.1", port))
            if n % 20 == 19:
                time.sleep(0.002)  # ~10000/s at most: what the socket buffer absorbs
    """
)


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def secret(path: Path, text: str) -> str:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return str(path)


def agent_config(tmp: Path, name: str, traps: bool) -> Path:
    listen = f'devices_traps: {{listen: "127.0.0.1:{free_port(socket.SOCK_DGRAM)}"}}\n' if traps else ""
    text = (
        f"version: 1\nstate_dir: {tmp / name}\n"
        f'exporter: {{listen: "127.0.0.1:{free_port(socket.SOCK_STREAM)}"}}\n'
        "collect: {schedule: {every: 1h}}\naudit: {schedule: {every: 1h}}\n"
        "devices_schedule: {poll: {every: 1h}, power: {every: 1h}}\n"
        f'devices:\n  - {{name: ups-1, kind: ups, address: "127.0.0.1:{free_port(socket.SOCK_DGRAM)}",'
        f' snmp: {{version: "2c", community_file: "{secret(tmp / "community", COMMUNITY)}", timeout: 1s}}}}\n'
        + listen
    )
    path = tmp / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def idle(tmp: Path) -> tuple[float, float]:
    """(CPU s of the agent without, with the receiver) over IDLE_SECONDS, after start-up."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "agent", "run", "-c", str(agent_config(tmp, name, on))],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, on in (("off", False), ("on", True))
    ]
    try:
        time.sleep(10)  # start-up jobs done
        before = [sum(psutil.Process(p.pid).cpu_times()[:2]) for p in procs]
        time.sleep(IDLE_SECONDS)
        after = [sum(psutil.Process(p.pid).cpu_times()[:2]) for p in procs]
    finally:
        for p in procs:
            p.terminate()
            p.wait(20)
    return after[0] - before[0], after[1] - before[1]


def flood(tmp: Path) -> dict[str, float]:
    import logging

    logging.getLogger("agent").setLevel(logging.CRITICAL)  # one warning per event otherwise
    from agent.config.schema import Config
    from agent.state import State
    from agent.traps.receiver import TrapReceiver
    from collectors.devices.config import DeviceConfig, SnmpConfig, TrapsConfig

    v2c = SnmpConfig(version="2c", community_file=secret(tmp / "c", COMMUNITY))
    keys = {"auth_key_file": secret(tmp / "a", AUTH), "priv_key_file": secret(tmp / "p", PRIV)}
    v3 = SnmpConfig(user="bench", **keys)
    devices = (
        DeviceConfig("ups", "ups", "127.0.0.1:161", snmp=v2c),
        DeviceConfig("sw", "switch", "127.0.0.2:161", snmp=v3),
    )
    figures: dict[str, float] = {}
    # (label, rate, burst, datagram, source, count): the default rate limit, then none to speak of
    cases = (("v2c rate-limited (dropped)", 5.0, 20, v2c_trap(COMMUNITY, COLD_START), "127.0.0.1", 20000),
             ("v2c accepted", 1000.0, 10000, v2c_trap(COMMUNITY, COLD_START), "127.0.0.1", 2000),
             ("v3 authPriv accepted", 1000.0, 10000, v3_trap(), "127.0.0.2", 2000))  # fmt: skip
    for label, rate, burst, data, source, count in cases:
        port = free_port(socket.SOCK_DGRAM)
        traps = TrapsConfig(listen=f"127.0.0.1:{port}", rate=rate, burst=burst, queue=65536)
        state = State.open(tmp / label.split(" (")[0].replace(" ", "-"))
        receiver = TrapReceiver(Config(devices=devices, devices_traps=traps), state, None, None).start()
        cpu = time.process_time()
        sender = [sys.executable, "-c", SENDER, str(port), str(count), source]
        subprocess.run(sender, input=data.hex(), text=True, check=True, timeout=300)
        receiver.close(timeout=120)  # after the queued traps are applied
        used = time.process_time() - cpu
        events = state.record("device_events")
        got = events.payload if events else {}
        received, dropped = sum(got.get("received", {}).values()), got.get("dropped", {})
        handled = received + sum(dropped.values())  # the kernel may drop some before the receiver
        figures[label] = used / max(1, handled) * 1000
        print(f"  {label}: {count} sent, {received} accepted, dropped {dropped}, {used:.2f} CPU s")
        state.close()
    return figures


COLD_START = (1, 3, 6, 1, 6, 3, 1, 1, 5, 1)


def trap_pdu() -> bytes:
    from collectors.devices.ber import SEQUENCE, encode_int, encode_oid, tlv

    binds = tlv(SEQUENCE, encode_oid((1, 3, 6, 1, 2, 1, 1, 3, 0)) + tlv(0x43, b"\x01")) + tlv(
        SEQUENCE, encode_oid((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)) + encode_oid(COLD_START)
    )
    return tlv(0xA7, encode_int(1) + encode_int(0) + encode_int(0) + tlv(SEQUENCE, binds))


def v2c_trap(community: str, _: object) -> bytes:
    from collectors.devices.ber import OCTET_STRING, SEQUENCE, encode_int, tlv

    return tlv(SEQUENCE, encode_int(1) + tlv(OCTET_STRING, community.encode()) + trap_pdu())


def v3_trap() -> bytes:
    from collectors.devices.snmp_usm import encode_message, localize

    engine = bytes.fromhex("80001f8880bbbbbbbb")
    pdu = trap_pdu()
    auth = localize("sha256", AUTH.encode(), engine)
    priv = localize("sha256", PRIV.encode(), engine)[:16]
    return encode_message(
        1, pdu, engine=engine, boots=1, engine_time=100, user=b"bench", context=b"",
        auth=(auth, "sha256", 24), priv_key=priv, salt=b"\x00" * 8, reportable=False,
    )  # fmt: skip


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-traps-") as name:
        tmp = Path(name)
        off, on = idle(tmp)
        print(f"idle agent over {IDLE_SECONDS:.0f}s: receiver off {off:.3f} CPU s, on {on:.3f} CPU s "
              f"(difference {on - off:+.3f} s; budget {IDLE_BUDGET * IDLE_SECONDS / 60:.3f} s)")  # fmt: skip
        for label, per_1000 in flood(tmp).items():
            print(f"flood, {label}: {per_1000:.3f} CPU s per 1000 traps")
    return 0 if on - off <= IDLE_BUDGET * IDLE_SECONDS / 60 else 1
