"""Helpers of the reliability tests, part A (load, authentication, hostile files and strings):
a real `hostward run` process, raw HTTP on loopback, memory sampling, hostile strings.

A module of its own (not conftest): several conftest.py exist and their names clash.
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path

import psutil
from reliability_b_kit import HOSTWARD, ROOT, agent_env
from reliability_b_kit import Agent as BaseAgent
from reliability_b_kit import free_port as free_port  # re-exported: part A's tests import it here

# Strings an attacker controls on a host or a device: a command substitution, backticks,
# a newline that would forge a log line, an ANSI escape that would rewrite a terminal,
# and HTML. `MARKER` is the file each would create if anything ran it through a shell.
MARKER = Path("/tmp/hostward-reliability-pwned")
HOSTILE = (
    f"$(touch {MARKER})`touch {MARKER}`\n"
    "2026-11-23T00:00:00.000Z ERROR forged: line\x1b[2J\x1b[31mred\r<script>alert(1)</script>"
)
SCRIPT = "<script>alert(1)</script>"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # raw control characters but \t and \n
COLLECT_SUCCESS = re.compile(
    rb'^hostward_job_last_success_timestamp_seconds\{job="collect"\} (\S+)$', re.MULTILINE
)


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file limit (children inherit it); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return max(soft, target)


def run_hostward(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        (str(HOSTWARD), *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=agent_env(),
        cwd=ROOT,
        check=False,
    )


def basic(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Authorization: Basic {token}\r\n"


def raw_get(port: int, path: str = "/metrics", headers: str = "", timeout: float = 5) -> bytes:
    """One HTTP/1.1 request over a fresh loopback socket; the whole answer (the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def collect_success(body: bytes) -> float:
    """hostward_job_last_success_timestamp_seconds{job="collect"} of a scrape, 0 if absent."""
    found = COLLECT_SUCCESS.search(body)
    return float(found.group(1)) if found else 0.0


class Agent(BaseAgent):
    """Part B's real `hostward run`, with what the load tests measure: memory and threads."""

    def __init__(self, config: Path, workdir: Path, wrapper: tuple[str, ...] = ()) -> None:
        super().__init__(workdir, config, prefix=wrapper)
        self.config = config
        self.ps = psutil.Process(self.proc.pid)

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def wait_serving(self) -> None:
        self.wait_for(lambda: self.stdout.strip(), what="the start banner")


class PeakSampler:
    """Samples a process's RSS and thread count in a thread until stopped; keeps the peaks."""

    def __init__(self, process: psutil.Process, every: float = 0.02) -> None:
        self._process = process
        self._every = every
        self._stop = threading.Event()
        self.peak_rss = 0
        self.peak_threads = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._process.oneshot():
                    self.peak_rss = max(self.peak_rss, self._process.memory_info().rss)
                    self.peak_threads = max(self.peak_threads, self._process.num_threads())
            except psutil.Error:
                return
            self._stop.wait(self._every)


def peak_child_rss(
    argv: tuple[str, ...], timeout: float = 60
) -> tuple[subprocess.CompletedProcess[str], int, float]:
    """Run argv in a child and return (result, the child's peak RSS in bytes, wall seconds).

    Run in a helper process of its own, so RUSAGE_CHILDREN holds this one child only."""
    probe = (
        "import resource, subprocess, sys, time, json\n"
        "started = time.monotonic()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.monotonic() - started\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024\n"
        "print(json.dumps([done.returncode, done.stdout, done.stderr, peak, wall]))\n"
    )
    outer = subprocess.run(
        (sys.executable, "-c", probe, *argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=agent_env(),
        cwd=ROOT,
        check=True,
    )
    code, out, err, peak, wall = json.loads(outer.stdout)
    return subprocess.CompletedProcess(argv, code, out, err), int(peak), float(wall)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def snmprec(records: dict[str, tuple[int, str | bytes]]) -> str:
    """An snmpsim recording, in OID order; str values as hex (`4x`) so any byte goes through."""
    lines = []
    for oid in sorted(records, key=lambda o: tuple(int(p) for p in o.split("."))):
        tag, value = records[oid]
        if isinstance(value, bytes):
            lines.append(f"{oid}|{tag}x|{value.hex()}")
        else:
            lines.append(f"{oid}|{tag}|{value}")
    return "\n".join(lines) + "\n"


def start_snmpsim(work: Path, community: str, recording: str, port: int) -> subprocess.Popen[bytes]:
    """Debian's snmpsimd serving `recording` under `community` on 127.0.0.1:`port`."""
    data, cache = work / "data", work / "cache"
    data.mkdir(parents=True)
    cache.mkdir()
    (data / f"{community}.snmprec").write_text(recording, encoding="ascii")
    for path in (work, data):
        path.chmod(0o755)
    cache.chmod(0o777)  # snmpsim drops to nobody when started as root
    argv = ["snmpsimd", f"--data-dir={data}", f"--cache-dir={cache}", "--logging-method=null",
            f"--agent-udpv4-endpoint=127.0.0.1:{port}"]  # fmt: skip
    if os.geteuid() == 0:
        argv += ["--process-user=nobody", "--process-group=nogroup"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

