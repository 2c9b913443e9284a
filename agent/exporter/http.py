"""A deliberately small HTTP/1.1 server core: GET/HEAD only, bounded headers, a whole-request
deadline (a client dribbling its headers is dropped), keep-alive, no request bodies.

Strict where request smuggling lives: a duplicate Content-Length (or Host), Content-Length
with Transfer-Encoding, a malformed length or a bare CR is 400 and the connection closes.
Lenient where it is harmless: a head whose lines end in a bare LF (as many servers accept,
RFC 9112 section 2.2) is parsed at once, never left waiting for its deadline.

The exporter serves three tiny read-only pages; a general-purpose server (http.server) would
cost memory and has only a per-read timeout, which lets slow-header clients hold a worker.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import field
from urllib.parse import parse_qs, urlsplit

from common.frozen import frozen

MAX_HEADER_BYTES = 16 * 1024
_REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 413: "Content Too Large",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
    503: "Service Unavailable", 505: "HTTP Version Not Supported",
}  # fmt: skip


class ClientGone(Exception):
    """The client closed the connection or did not send its request in time."""


@frozen
class Request:
    """A parsed request head: method, path, query, HTTP version and headers."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    version: str
    headers: Mapping[str, str]  # lower-case names

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return conn == "keep-alive"
        return conn != "close"


@frozen
class Response:
    """What a handler answers: status, body, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    """A request head that cannot be served; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def head_end(buffer: bytes | bytearray) -> int:
    """Index just past the empty line that ends a request head (CRLF CRLF, or with bare LFs);
    -1 while it has not arrived within MAX_HEADER_BYTES."""
    limit = MAX_HEADER_BYTES + 4
    at = buffer.find(b"\n", 0, limit)
    while at >= 0:
        nxt = at + 1
        if buffer[nxt : nxt + 1] == b"\n":
            return nxt + 1
        if buffer[nxt : nxt + 2] == b"\r\n":
            return nxt + 2
        at = buffer.find(b"\n", nxt, limit)
    return -1


def read_request(sock: socket.socket, buffer: bytearray, deadline: float) -> Request | None:
    """Read one request head. None on a clean close before any byte; ClientGone on timeout or
    a close mid-request; BadRequest for a malformed or oversized head. `buffer` keeps bytes
    of a pipelined next request."""
    while True:
        end = head_end(buffer)
        if end >= 0:
            break
        if len(buffer) > MAX_HEADER_BYTES:
            raise BadRequest(431, "request head too large")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ClientGone("request not received in time")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(4096)
        except TimeoutError as exc:
            raise ClientGone("request not received in time") from exc
        if not chunk:
            if buffer.strip():
                raise ClientGone("connection closed mid-request")
            return None
        buffer += chunk
    head = bytes(buffer[:end]).decode("latin-1")
    del buffer[:end]
    return parse_head(head)


def parse_head(head: str) -> Request:
    """A request head (its terminating empty line included) -> Request, or BadRequest."""
    lines = [line.removesuffix("\r") for line in head.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise BadRequest(400, "empty request")
    if any("\r" in line or "\0" in line for line in lines):
        raise BadRequest(400, "bare CR or NUL in the request head")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(505, "only HTTP/1.x")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, "malformed header")
        key = name.lower()
        if key in headers and key in _SINGLE:
            raise BadRequest(400, f"duplicate {name} header")
        headers[key] = value.strip() if key not in headers else f"{headers[key]}, {value.strip()}"
    _check_body_framing(headers)
    try:
        url = urlsplit(target)
        query = parse_qs(url.query)
    except ValueError as exc:  # e.g. "http://[x": an unclosed IPv6 literal
        raise BadRequest(400, "malformed request target") from exc
    return Request(method, url.path or "/", query, version, headers)


_SINGLE = frozenset({"content-length", "transfer-encoding", "host"})  # a second one is an attack


def _check_body_framing(headers: Mapping[str, str]) -> None:
    """No request has a body here; framing that two parsers could read differently is 400."""
    length = headers.get("content-length")
    if length is not None and "transfer-encoding" in headers:
        raise BadRequest(400, "both Content-Length and Transfer-Encoding")
    if length is not None and not (length.isascii() and length.isdigit()):
        raise BadRequest(400, "malformed Content-Length")
    if "transfer-encoding" in headers or (length is not None and int(length) != 0):
        raise BadRequest(413, "request bodies are not accepted")


def encode_response(response: Response, keep_alive: bool, head_only: bool = False) -> bytes:
    reason = _REASONS.get(response.status, "Unknown")
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: " + ("keep-alive" if keep_alive else "close"),
        "X-Content-Type-Options: nosniff",
        "Cache-Control: no-store",
    ]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + response.body


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether `Accept-Encoding` allows gzip: listed (or `*`) with a q-value above 0. A q-value
    that does not parse counts as 0: identity is always safe."""
    star: bool | None = None
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:  # nan, inf, out of range
                    q = 0.0
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return bool(star)


def gzipped(response: Response, body: bytes | None = None) -> Response:
    """`response` with its body gzip-compressed (`body`: the compressed bytes, when cached)."""
    import zlib  # wbits=31: a gzip stream with no file name and mtime 0 (gzip.compress, without gzip)

    packed = body if body is not None else zlib.compress(response.body, 6, wbits=31)
    headers = {**response.headers, "Content-Encoding": "gzip"}
    return Response(response.status, packed, response.content_type, headers)


def plain(status: int, text: str = "", headers: Mapping[str, str] | None = None) -> Response:
    body = (text or _REASONS.get(status, "")).encode() + b"\n"
    return Response(status, body, headers=headers or {})
