"""The exporter's HTTP server on a real loopback socket: pages, limits, slow clients."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable

import pytest
from exporter_helpers import raw_get, status_of

from agent.config import LoadedConfig
from agent.exporter.errors import ExporterError
from agent.exporter.server import ExporterHandle, start_exporter
from agent.state import State

Serve = Callable[[LoadedConfig], ExporterHandle]


def test_metrics_status_page_and_healthz_answer(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded())
    assert handle.url == f"http://127.0.0.1:{handle.address[1]}/"
    metrics = raw_get(handle.address, "/metrics")
    assert status_of(metrics) == 200
    assert b"Content-Type: text/plain; version=0.0.4" in metrics
    assert b"\nhostward_memory_total_bytes 8e+09\n" in metrics
    page = raw_get(handle.address, "/?lang=en")
    assert status_of(page) == 200 and b'id="host-health"' in page and b"Content-Security-Policy" in page
    assert raw_get(handle.address, "/healthz").endswith(b"\r\n\r\nok\n")


def test_unknown_paths_are_404_and_other_methods_405(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded())
    assert status_of(raw_get(handle.address, "/etc/passwd")) == 404
    with socket.create_connection(handle.address, timeout=5) as sock:
        sock.sendall(b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(sock.recv(4096)) == 405
    with socket.create_connection(handle.address, timeout=5) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\n" + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n")
        assert status_of(sock.recv(4096)) == 431


def test_one_keep_alive_connection_serves_several_scrapes(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded())
    conn = http.client.HTTPConnection(*handle.address, timeout=5)
    bodies = []
    for _ in range(3):
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        assert response.status == 200
        bodies.append(response.read())
    conn.request("HEAD", "/metrics")
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b""
    assert int(head.headers["Content-Length"]) == len(bodies[0])
    conn.close()
    assert bodies[0] == bodies[1] == bodies[2]


def _slow_clients(address: tuple[str, int], count: int) -> list[socket.socket]:
    """Connections that ask for many pages and never read them: each holds a worker, blocked
    sending into a full socket buffer. (A client that never finishes its headers holds no
    worker: the accept loop waits for request heads.)"""
    socks = []
    for _ in range(count):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        sock.settimeout(10)
        sock.connect(address)
        sock.sendall(b"GET /?lang=en HTTP/1.1\r\nHost: x\r\n\r\n" * 200)
        socks.append(sock)
    time.sleep(0.5)  # let the workers fill the socket buffers
    return socks


def test_requests_beyond_the_cap_get_503_at_once(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded("max_concurrent_requests: 2\nrequest_timeout: 3s"))
    held = _slow_clients(handle.address, 2)
    try:
        started = time.monotonic()
        answer = raw_get(handle.address, "/metrics")
        assert status_of(answer) == 503
        assert time.monotonic() - started < 1.0
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)  # the workers notice the closed connections
    assert status_of(raw_get(handle.address, "/metrics")) == 200


def test_a_slow_header_client_is_dropped_and_does_not_block_others(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded("max_concurrent_requests: 4\nrequest_timeout: 1s"))
    slow = socket.create_connection(handle.address, timeout=10)
    dropped = threading.Event()

    def dribble() -> None:
        try:
            slow.sendall(b"GET /metrics HTTP/1.1\r\n")
            for _ in range(30):  # one header byte every 0.2 s: never a complete request
                slow.sendall(b"X")
                time.sleep(0.2)
        except OSError:
            dropped.set()

    started = time.monotonic()
    thread = threading.Thread(target=dribble)
    thread.start()
    for _ in range(5):
        assert status_of(raw_get(handle.address, "/metrics", timeout=2)) == 200
    assert time.monotonic() - started < 1.0, "others were served while the slow client dribbled"
    slow.settimeout(5)
    assert slow.recv(4096) == b"", "the server closed the slow connection"
    assert time.monotonic() - started < 2.5
    thread.join()
    assert dropped.is_set()
    slow.close()


def test_a_busy_port_is_an_exporter_error(make_loaded: Callable[..., LoadedConfig], state: State) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        loaded = make_loaded(port=taken.getsockname()[1])
        with pytest.raises(ExporterError, match="cannot listen"):
            start_exporter(loaded, state)


def test_closing_the_exporter_frees_the_port(make_loaded: Callable[..., LoadedConfig], state: State) -> None:
    loaded = make_loaded()
    handle = start_exporter(loaded, state)
    assert status_of(raw_get(handle.address)) == 200
    handle.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(handle.address, timeout=2).close()
    start_exporter(loaded, state).close()  # and the same address can be served again


def test_closing_does_not_wait_for_an_idle_keep_alive_connection(
    make_loaded: Callable[..., LoadedConfig], state: State
) -> None:
    handle = start_exporter(make_loaded("request_timeout: 30s"), state)
    conn = http.client.HTTPConnection(*handle.address, timeout=5)
    conn.request("GET", "/metrics")
    assert conn.getresponse().read()
    started = time.monotonic()
    handle.close()  # the connection above is idle, waiting for its next request
    assert time.monotonic() - started < 2.0
    conn.close()
