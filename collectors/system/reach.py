"""Reachability probes: TCP connects and DNS queries, all at once under one bounded timeout.

Used to attest isolation (an internet canary must NOT answer) and connectivity (the private
network MUST answer). Addresses come from the config; nothing is resolved by name here, so an
isolated host's resolver is never asked (a DNS canary is a server address, queried directly).
"""

from __future__ import annotations

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor, wait

from common.frozen import frozen


@frozen
class Reach:
    """One probe of a target over TCP or DNS: the answer, what it said, and how long it took (seconds)."""

    target: str  # "HOST:PORT"
    kind: str  # "tcp" or "dns"
    reachable: bool | None  # None: no answer either way before the timeout (treated as unreachable)
    detail: str
    seconds: float


def split_hostport(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp_probe(target: str, timeout: float) -> Reach:
    host, port = split_hostport(target)
    started = time.monotonic()
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
        return Reach(target, "tcp", True, "connected", time.monotonic() - started)
    except ConnectionRefusedError:
        # A refusal is an answer from the far side (or a router): the path exists.
        return Reach(target, "tcp", True, "connection refused (path exists)", time.monotonic() - started)
    except TimeoutError:
        return Reach(target, "tcp", None, "timed out", time.monotonic() - started)
    except OSError as exc:
        return Reach(target, "tcp", False, exc.strerror or str(exc), time.monotonic() - started)
    finally:
        sock.close()


def dns_query_packet() -> bytes:
    """A minimal query: root zone, type NS, class IN, recursion desired."""
    ident = os.urandom(2)
    return ident + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x00\x00\x02\x00\x01"


def dns_probe(target: str, timeout: float) -> Reach:
    host, port = split_hostport(target)
    started = time.monotonic()
    sock = socket.socket(_family(host), socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    query = dns_query_packet()
    try:
        sock.sendto(query, (host, port))
        data, _ = sock.recvfrom(4096)
        if data[:2] == query[:2]:
            return Reach(target, "dns", True, "answered", time.monotonic() - started)
        return Reach(target, "dns", True, "answered (unexpected id)", time.monotonic() - started)
    except TimeoutError:
        return Reach(target, "dns", None, "no answer", time.monotonic() - started)
    except OSError as exc:
        return Reach(target, "dns", False, exc.strerror or str(exc), time.monotonic() - started)
    finally:
        sock.close()


def probe_all(tcp: tuple[str, ...], dns: tuple[str, ...], timeout: float) -> list[Reach]:
    """Every probe concurrently; the whole batch takes at most about `timeout` seconds."""
    jobs = [(tcp_probe, t) for t in tcp] + [(dns_probe, t) for t in dns]
    if not jobs:
        return []
    pool = ThreadPoolExecutor(max_workers=min(32, len(jobs)), thread_name_prefix="reach")
    try:
        futures = [pool.submit(fn, target, timeout) for fn, target in jobs]
        wait(futures, timeout=timeout + 0.5)
        out = []
        for (fn, target), future in zip(jobs, futures, strict=True):
            kind = "tcp" if fn is tcp_probe else "dns"
            out.append(future.result() if future.done() else Reach(target, kind, None, "timed out", timeout))
        return out
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
