"""A deliberately small HTTP/1.1 server core: GET/HEAD only, bounded headers, a whole-request
deadline (a client dribbling its headers is dropped), keep-alive, no request bodies.

The exporter serves three tiny read-only pages; a general-purpose server (http.server) would
cost memory and has only a per-read timeout, which lets slow-header clients hold a worker.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

MAX_HEADER_BYTES = 16 * 1024
_REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 413: "Content Too Large",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
    503: "Service Unavailable", 505: "HTTP Version Not Supported",
}  # fmt: skip


class ClientGone(Exception):
    """The client closed the connection or did not send its request in time."""


@dataclass(frozen=True)
class Request:
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


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def read_request(sock: socket.socket, buffer: bytearray, deadline: float) -> Request | None:
    """Read one request head. None on a clean close before any byte; ClientGone on timeout or
    a close mid-request; BadRequest for a malformed or oversized head. `buffer` keeps bytes
    of a pipelined next request."""
    while True:
        end = buffer.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES + 4)
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
    del buffer[: end + 4]
    lines = head.split("\r\n")
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
        headers[name.lower()] = value.strip()
    if headers.get("transfer-encoding") or headers.get("content-length", "0") not in ("", "0"):
        raise BadRequest(413, "request bodies are not accepted")
    url = urlsplit(target)
    return Request(method, url.path or "/", parse_qs(url.query), version, headers)


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


def plain(status: int, text: str = "", headers: Mapping[str, str] | None = None) -> Response:
    body = (text or _REASONS.get(status, "")).encode() + b"\n"
    return Response(status, body, headers=headers or {})
