"""The metrics endpoint of a real `hostward run` under a flood of 1,000 connections and a
slow-header client: memory and threads stay bounded, the cap answers 503, slow clients are
dropped at `exporter.request_timeout`, collection goes on and a real scrape still gets in."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from reliability_kit import Agent, PeakSampler, collect_success, free_port, raise_nofile, raw_get, status_of

FLOOD = 1000
CAP = 8
TIMEOUT = 2.0  # exporter.request_timeout
MB = 1024 * 1024
CONFIG = f"""\
version: 1
state_dir: {{state}}
exporter:
  listen: "127.0.0.1:PORT"
  max_concurrent_requests: {CAP}
  request_timeout: {TIMEOUT:.0f}s
collect:
  schedule: {{every: 1s, timeout: 5s}}
"""
REQUEST = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


@dataclass
class FloodResult:
    connected: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # "200", "503", "closed", "held"
    drained_after: float = 0.0  # seconds until the server had closed every connection


def flood(port: int, count: int, started: threading.Event, result: FloodResult, limit: float) -> None:
    """Open `count` connections at once; every other one sends a whole request, the rest
    send nothing. Read until the server has closed each one, or `limit` seconds."""
    sel = selectors.DefaultSelector()
    socks: list[socket.socket] = []
    answers: dict[socket.socket, bytearray] = {}
    for i in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        socks.append(sock)
        sel.register(sock, selectors.EVENT_WRITE, i % 2 == 0)
    begin = time.monotonic()
    started.set()
    open_ = set(socks)
    while open_ and time.monotonic() - begin < limit:
        for key, events in sel.select(timeout=0.2):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if events & selectors.EVENT_WRITE:  # connected (or failed)
                failed = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if not failed:
                    result.connected += 1
                    if key.data:
                        with contextlib.suppress(OSError):
                            sock.send(REQUEST)
                sel.modify(sock, selectors.EVENT_READ)
                answers[sock] = bytearray()
                continue
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                answers[sock] += chunk
                continue
            sel.unregister(sock)
            open_.discard(sock)
            answer = bytes(answers[sock])
            result.outcomes[str(status_of(answer)) if answer else "closed"] += 1
    result.drained_after = time.monotonic() - begin
    result.outcomes["held"] = len(open_)
    sel.close()
    for sock in socks:
        sock.close()


def slowloris(port: int, dropped_after: list[float]) -> None:
    """Dribble one header byte every 0.25 s, never ending the request; note when dropped."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    begin = time.monotonic()
    try:
        sock.sendall(b"GET /metrics HTTP/1.1\r\n")
        while time.monotonic() - begin < TIMEOUT * 5:
            sock.sendall(b"X")
            sock.settimeout(0.25)
            try:
                if sock.recv(4096) == b"":
                    break
            except TimeoutError:
                continue
    except OSError:
        pass
    finally:
        dropped_after.append(time.monotonic() - begin)
        sock.close()


def idle_attacker(port: int, stop: threading.Event, opened: list[int]) -> None:
    """Keep opening connections that never send a byte (up to 1,000 open), until `stop`."""
    held: deque[socket.socket] = deque()
    try:
        while not stop.is_set():
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            held.append(sock)
            opened[0] += 1
            while len(held) > FLOOD:
                held.popleft().close()
            time.sleep(0.001)
    finally:
        for sock in held:
            sock.close()


def scrape_statuses(port: int, count: int) -> tuple[Counter[int], bytes]:
    """`count` scrapes 0.1 s apart: the statuses (0: no answer) and the last 200 body."""
    seen: Counter[int] = Counter()
    body = b""
    for _ in range(count):
        try:
            answer = raw_get(port, timeout=TIMEOUT + 1)
        except OSError:
            answer = b""
        seen[status_of(answer)] += 1
        body = answer if status_of(answer) == 200 else body
        time.sleep(0.1)
    return seen, body


def start(start_agent: Callable[[str], Agent]) -> tuple[Agent, int]:
    port = free_port()
    agent = start_agent(CONFIG.replace("PORT", str(port)))
    agent.wait_serving()
    agent.wait_for(lambda: collect_success(raw_get(port)) > 0, what="a first collect run")
    return agent, port


def test_a_flood_of_1000_connections_leaves_the_agent_serving_scrapes_and_collecting(
    start_agent: Callable[[str], Agent],
) -> None:
    assert raise_nofile(8192) >= 2 * FLOOD + 200
    agent, port = start(start_agent)
    time.sleep(0.5)  # let the first scrape's render settle before measuring
    rss_before, threads_before = agent.rss(), agent.ps.num_threads()
    collected_before = collect_success(raw_get(port))

    result, opened = FloodResult(), [0]
    flooding, stop = threading.Event(), threading.Event()
    with PeakSampler(agent.ps) as sampler:
        flooder = threading.Thread(target=flood, args=(port, FLOOD, flooding, result, TIMEOUT * 5))
        flooder.start()
        assert flooding.wait(10)
        attacker = threading.Thread(target=idle_attacker, args=(port, stop, opened))
        attacker.start()  # and more idle connections, all the time the scrapes run
        seen, body = scrape_statuses(port, 20)
        stop.set()
        attacker.join(10)
        flooder.join(TIMEOUT * 6)
    time.sleep(1.5)  # a collect run or two after the flood
    rss_after = agent.rss()
    collected_after = collect_success(raw_get(port))

    figures = {
        "connected": result.connected,
        "outcomes": dict(result.outcomes),
        "drained_s": round(result.drained_after, 2),
        "idle_connections_opened_meanwhile": opened[0],
        "scrape_statuses": dict(seen),
        "rss_mb": [round(x / MB, 1) for x in (rss_before, sampler.peak_rss, rss_after)],
        "threads": [threads_before, sampler.peak_threads],
    }
    print("\nflood figures:", figures)
    assert result.connected == FLOOD, figures
    assert result.outcomes["held"] == 0, f"connections still open after {TIMEOUT * 5}s: {figures}"
    assert set(result.outcomes) <= {"200", "503", "closed", "held"}, figures  # never a 500
    assert result.outcomes["503"] >= 20, figures  # complete requests beyond the cap: 503 at once
    assert seen[200] >= 16, figures  # a real scrape gets in while idle connections pour in
    assert body and b"hostward_build_info" in body, figures
    assert sampler.peak_threads <= threads_before + CAP + 2, figures  # at most CAP workers
    assert sampler.peak_rss - rss_before < 40 * MB, figures
    assert rss_after - rss_before < 20 * MB, figures
    assert collected_after > collected_before, f"collection stalled under the flood: {figures}"
    assert agent.proc.poll() is None


def test_slow_header_and_idle_keep_alive_clients_hold_no_worker_and_are_dropped_at_the_timeout(
    start_agent: Callable[[str], Agent],
) -> None:
    _, port = start(start_agent)
    dropped_after: list[float] = []
    slow = [threading.Thread(target=slowloris, args=(port, dropped_after)) for _ in range(CAP * 2)]
    for thread in slow:
        thread.start()
    kept = []  # and as many idle keep-alive connections, each after one answered request
    for _ in range(CAP * 2):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
        kept.append(sock)
    time.sleep(0.3)
    seen, _ = scrape_statuses(port, 5)  # twice as many idle clients as workers: scrapes still 200
    for thread in slow:
        thread.join(TIMEOUT * 6)
    for sock in kept:
        sock.close()
    print(f"\nslow-header clients dropped after {min(dropped_after):.2f}-{max(dropped_after):.2f}s")
    assert seen == Counter({200: 5})
    assert len(dropped_after) == CAP * 2
    assert all(TIMEOUT - 0.3 <= t <= TIMEOUT + 2 for t in dropped_after), dropped_after
