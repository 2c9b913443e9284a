"""Real SNMP agents on loopback for the devices tests: Debian snmpd and snmpsim.

Every agent listens on a free 127.0.0.1 UDP port, with a private config and persistent
directory in a temp dir; nothing of the system's SNMP setup is read or changed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from testkit import free_port as free_tcp_port  # noqa: F401

from collectors.devices.config import DeviceConfig, SnmpConfig

DATA = Path(__file__).parent / "data"
COMMUNITY = "hw-c0mmunity"
V3_USER = "hwmon"
AUTH_KEY = "auth-pass-phrase-1"
PRIV_KEY = "priv-pass-phrase-1"
# more snmpd users, same pass phrases: user -> (auth protocol, privacy protocol)
MORE_V3_USERS = {"hwsha1": ("SHA", "AES"), "hwsha512": ("SHA-512", "AES"), "hwauthonly": ("SHA-256", "none")}
QUIET_MIBS = {"MIBS": "", "MIBDIRS": "/nonexistent"}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def blackhole() -> Iterator[int]:
    """A UDP port that swallows everything: a dead device (no answer, not even ICMP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def secret(path: Path, text: str) -> str:
    path.write_text(text + "\n")
    path.chmod(0o600)
    return str(path)


def wait_snmp(port: int, community: str, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Until the agent answers a GET of sysName (or the process died)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"agent exited with {proc.returncode}")
        done = subprocess.run(
            [
                "snmpget",
                "-v2c",
                "-c",
                community,
                "-t",
                "0.3",
                "-r",
                "0",
                "-On",
                f"127.0.0.1:{port}",
                "1.3.6.1.2.1.1.5.0",
            ],
            capture_output=True,
            env={**os.environ, **QUIET_MIBS},
            check=False,
        )
        if done.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"agent on port {port} did not answer within {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@dataclass(frozen=True)
class Snmpd:
    port: int
    community_file: str
    auth_key_file: str
    priv_key_file: str
    wrong_key_file: str
    auth_protocol: str  # SHA-256 where net-snmp has it


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    """snmpd with a v2c community and a v3 authPriv user, on a free loopback port."""
    if shutil.which("snmpd") is None and not Path("/usr/sbin/snmpd").exists():
        pytest.skip("Debian snmpd is not installed (scripts/debian-deps.sh test)")
    base = tmp_path_factory.mktemp("snmpd")
    persist = base / "persist"
    persist.mkdir()
    port = free_udp_port()
    conf = base / "snmpd.conf"
    users = "".join(
        f'createUser {user} {auth} "{AUTH_KEY}"' + (f' {priv} "{PRIV_KEY}"' if priv != "none" else "")
        + f"\nrouser {user} {'auth' if priv == 'none' else 'priv'}\n"
        for user, (auth, priv) in MORE_V3_USERS.items()
    )  # fmt: skip
    conf.write_text(
        f"rocommunity {COMMUNITY} 127.0.0.1\n"
        f'createUser {V3_USER} SHA-256 "{AUTH_KEY}" AES "{PRIV_KEY}"\n'
        f"rouser {V3_USER} priv\n" + users + "sysName lab-router\n"
        "sysLocation 机房 Room 101\n"
        f"[snmp] persistentDir {persist}\n"
    )
    proc = subprocess.Popen(
        [
            "/usr/sbin/snmpd",
            "-f",
            "-Lo",
            "-C",
            "-c",
            str(conf),
            "-p",
            str(base / "pid"),
            f"udp:127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **QUIET_MIBS, "SNMP_PERSISTENT_DIR": str(persist)},
    )
    try:
        wait_snmp(port, COMMUNITY, proc)
        yield Snmpd(
            port,
            secret(base / "community", COMMUNITY),
            secret(base / "auth.key", AUTH_KEY),
            secret(base / "priv.key", PRIV_KEY),
            secret(base / "wrong.key", "not-the-right-key"),
            "SHA-256",
        )
    finally:
        stop(proc)


def v3(name: str, agent: Snmpd, auth_key_file: str, priv_key_file: str) -> DeviceConfig:
    snmp = SnmpConfig(
        user=V3_USER,
        auth_protocol=agent.auth_protocol,  # type: ignore[arg-type]
        auth_key_file=auth_key_file,
        priv_protocol="AES",
        priv_key_file=priv_key_file,
        timeout=2,
    )
    return DeviceConfig(name, "router", f"127.0.0.1:{agent.port}", snmp=snmp)


@dataclass(frozen=True)
class Snmpsim:
    ports: tuple[int, ...]
    community_dir: Path  # community files named after the .snmprec files


def sorted_snmprec(text: str) -> str:
    """snmpsim wants records in OID order; our files are written in MIB order."""
    lines = [line for line in text.splitlines() if line.strip()]
    lines.sort(key=lambda line: tuple(int(p) for p in line.split("|")[0].split(".")))
    return "\n".join(lines) + "\n"


def start_snmpsim(data: Path, ports: list[int], work: Path) -> subprocess.Popen[bytes]:
    cache = work / "cache"
    cache.mkdir(exist_ok=True)
    for path in (work, data, cache):
        path.chmod(0o777 if path == cache else 0o755)
    argv = ["snmpsimd", f"--data-dir={data}", f"--cache-dir={cache}", "--logging-method=null"]
    argv += [f"--agent-udpv4-endpoint=127.0.0.1:{p}" for p in ports]
    if os.geteuid() == 0:  # snmpsim refuses to run as root
        argv += ["--process-user=nobody", "--process-group=nogroup"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpsim]:
    """snmpsim serving the UPS and room-sensor recordings (community = file name)."""
    if shutil.which("snmpsimd") is None:
        pytest.skip("Debian snmpsim is not installed (scripts/debian-deps.sh test)")
    work = Path(tempfile.mkdtemp(prefix="hostward-snmpsim-"))  # readable by the dropped user
    data = work / "data"
    data.mkdir()
    communities = tmp_path_factory.mktemp("communities")
    for recording in sorted((DATA / "snmprec").glob("*.snmprec")):
        (data / recording.name).write_text(sorted_snmprec(recording.read_text()))
        secret(communities / recording.stem, recording.stem)
    ports = [free_udp_port(), free_udp_port()]
    proc = start_snmpsim(data, ports, work)
    try:
        for port in ports:
            wait_snmp(port, "ups-mains", proc, timeout=30)
        yield Snmpsim(tuple(ports), communities)
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)
