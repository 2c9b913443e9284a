"""The running exporter on 127.0.0.1, over raw sockets: gzip when asked (as node_exporter and
as Prometheus asks), request framing that could be read two ways refused with 400 and a close,
and heads ended by bare LFs answered at once instead of waiting for the request deadline."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Callable

import pytest
from exporter_helpers import raw_get, status_of

from agent.config import LoadedConfig
from agent.exporter.server import ExporterHandle

Serve = Callable[[LoadedConfig], ExporterHandle]
# The deadline is far longer than any client here waits: an answer at all proves the server
# did not sit on the request until its deadline (then it would drop it, answering nothing).
SLOW = "request_timeout: 120s"
CLIENT_WAIT = 30.0


def exchange(address: tuple[str, int], raw: bytes) -> bytes:
    """Send `raw`, read until the server closes (or the client's wait runs out: TimeoutError)."""
    with socket.create_connection(address, timeout=CLIENT_WAIT) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def split(answer: bytes) -> tuple[dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, body


@pytest.mark.parametrize("path", ["/metrics", "/?lang=en"])
def test_gzip_is_sent_when_asked_and_unpacks_to_the_plain_page(
    make_loaded: Callable[..., LoadedConfig], serve: Serve, path: str
) -> None:
    handle = serve(make_loaded())
    plain_headers, plain_body = split(raw_get(handle.address, path))
    answer = raw_get(handle.address, path, "Accept-Encoding: gzip, deflate\r\n")
    headers, body = split(answer)
    assert status_of(answer) == 200
    assert headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body) < len(plain_body)
    assert gzip.decompress(body) == plain_body
    assert "content-encoding" not in plain_headers and plain_headers["vary"] == "Accept-Encoding"


@pytest.mark.parametrize(
    "accept",
    [
        "gzip;q=0",
        "gzip; q=0.000, deflate",
        "identity",
        "deflate, br",
        "*;q=0",
        "gzip;q=0, *",
        "gzip;q=banana",
    ],
)
def test_gzip_refused_or_not_offered_gets_the_plain_page(
    make_loaded: Callable[..., LoadedConfig], serve: Serve, accept: str
) -> None:
    handle = serve(make_loaded())
    headers, body = split(raw_get(handle.address, "/metrics", f"Accept-Encoding: {accept}\r\n"))
    assert "content-encoding" not in headers
    assert b"hostward_memory_total_bytes" in body


@pytest.mark.parametrize("accept", ["*", "x-gzip", "GZIP;Q=0.5", "deflate;q=1, *;q=0.1"])
def test_gzip_by_any_accepted_spelling(
    make_loaded: Callable[..., LoadedConfig], serve: Serve, accept: str
) -> None:
    handle = serve(make_loaded())
    headers, body = split(raw_get(handle.address, "/metrics", f"Accept-Encoding: {accept}\r\n"))
    assert headers["content-encoding"] == "gzip"
    assert b"hostward_memory_total_bytes" in gzip.decompress(body)


def test_a_head_request_gives_the_compressed_length_and_no_body(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded())
    _, packed = split(raw_get(handle.address, "/metrics", "Accept-Encoding: gzip\r\n"))
    raw = b"HEAD /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    headers, body = split(exchange(handle.address, raw))
    assert headers["content-encoding"] == "gzip" and int(headers["content-length"]) == len(packed)
    assert body == b""


def test_healthz_and_errors_are_never_compressed(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded())
    for path in ("/healthz", "/nowhere"):
        headers, _ = split(raw_get(handle.address, path, "Accept-Encoding: gzip\r\n"))
        assert "content-encoding" not in headers


FRAMING = {
    "two Content-Length": b"Content-Length: 0\r\nContent-Length: 0\r\n",
    "two different Content-Length": b"Content-Length: 0\r\nContent-Length: 5\r\n",
    "Content-Length and Transfer-Encoding": b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
    "a signed Content-Length": b"Content-Length: +0\r\n",
    "a listed Content-Length": b"Content-Length: 0, 0\r\n",
    "two Transfer-Encoding": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
    "two Host": b"Host: y\r\n",
}


@pytest.mark.parametrize("extra", FRAMING.values(), ids=list(FRAMING))
def test_framing_that_reads_two_ways_is_400_and_the_connection_closes(
    make_loaded: Callable[..., LoadedConfig], serve: Serve, extra: bytes
) -> None:
    handle = serve(make_loaded(SLOW))
    smuggled = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"  # pipelined behind: never served
    answer = exchange(handle.address, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n" + smuggled)
    assert status_of(answer) == 400
    assert answer.count(b"HTTP/1.1 ") == 1 and b"Connection: close" in answer
    assert b"hostward_" not in answer


def test_a_body_announced_with_a_plain_length_is_413(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded(SLOW))
    answer = exchange(handle.address, b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd")
    assert status_of(answer) == 413


def test_a_head_ended_by_bare_lfs_is_answered_at_once(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded(SLOW))
    answer = exchange(handle.address, b"GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n")
    assert status_of(answer) == 200 and answer.endswith(b"\r\n\r\nok\n")
    mixed = exchange(handle.address, b"GET /healthz HTTP/1.1\r\nHost: x\nConnection: close\r\n\n")
    assert status_of(mixed) == 200


def test_bare_lf_keep_alive_requests_are_each_answered(
    make_loaded: Callable[..., LoadedConfig], serve: Serve
) -> None:
    handle = serve(make_loaded(SLOW))
    answers = exchange(
        handle.address,
        b"GET /healthz HTTP/1.1\nHost: x\n\nGET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n",
    )
    assert answers.count(b"HTTP/1.1 200 OK") == 2


@pytest.mark.parametrize(
    "raw",
    [b"GET /healthz HTTP/1.1\rHost: x\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: x\ry\r\n\r\n", b"\n\n"],
    ids=["bare CR ends a line", "bare CR in a value", "nothing but an empty line"],
)
def test_a_bare_cr_or_an_empty_head_is_400_at_once(
    make_loaded: Callable[..., LoadedConfig], serve: Serve, raw: bytes
) -> None:
    handle = serve(make_loaded(SLOW))
    assert status_of(exchange(handle.address, raw)) == 400
