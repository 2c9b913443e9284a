"""Connections the accept loop holds itself, with no worker: those whose request head has not
fully arrived (PendingHeads), and those refused with a 503 while they drain (Refusals).

Why: a worker that waits for a request head can be held by anyone who opens a connection and
sends nothing. With a cap of 8 workers, a trickle of idle connections (a few hundred a second)
would keep Prometheus out for good. Here waiting costs one socket and a small buffer; a worker
is taken only by a complete head. Bounded twice: each connection is dropped at its
whole-request deadline, and at most `limit` wait at once; beyond it the oldest is dropped, so
an idle flood evicts itself while a real client, which sends its request within milliseconds of
connecting, gets through.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from dataclasses import dataclass

from agent.exporter.http import MAX_HEADER_BYTES, head_end

HEAD = "head"  # the selector's tag for connections waiting here


@dataclass
class Waiting:
    """A connection's request head so far, and when (monotonic clock) it is dropped if incomplete."""

    buffer: bytearray
    deadline: float


class PendingHeads:
    """Not thread-safe: only the accept loop calls it."""

    def __init__(self, sel: selectors.BaseSelector, limit: int, timeout: float) -> None:
        self._sel = sel
        self._limit = limit
        self._timeout = timeout
        self._waiting: dict[socket.socket, Waiting] = {}  # insertion order is deadline order

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, conn: socket.socket, buffer: bytearray | None = None) -> Waiting | None:
        """Wait for `conn`'s request head; the entry at once if `buffer` already holds one."""
        entry = Waiting(buffer if buffer is not None else bytearray(), time.monotonic() + self._timeout)
        if _complete(entry.buffer):
            return entry
        while len(self._waiting) >= self._limit:
            self.drop(next(iter(self._waiting)))
        conn.setblocking(False)
        self._waiting[conn] = entry
        self._sel.register(conn, selectors.EVENT_READ, HEAD)
        return None

    def read(self, conn: socket.socket) -> Waiting | None:
        """Take what arrived on `conn`. The entry, no longer watched, once the head is complete
        (or too large: the worker answers 431); None while it is still coming or was dropped."""
        entry = self._waiting.get(conn)
        if entry is None:
            return None
        try:
            chunk = conn.recv(4096)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            chunk = b""
        if not chunk:
            self.drop(conn)
            return None
        entry.buffer += chunk
        if not _complete(entry.buffer):
            return None
        self._forget(conn)
        return entry

    def expire(self, now: float) -> None:
        """Drop every connection past its deadline (they are in deadline order)."""
        for conn, entry in list(self._waiting.items()):
            if entry.deadline > now:
                return
            self.drop(conn)

    def drop(self, conn: socket.socket) -> None:
        self._forget(conn)
        conn.close()

    def close(self) -> None:
        for conn in list(self._waiting):
            self.drop(conn)

    def _forget(self, conn: socket.socket) -> None:
        self._waiting.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(conn)


def _complete(buffer: bytearray) -> bool:
    return head_end(buffer) >= 0 or len(buffer) > MAX_HEADER_BYTES


LINGER = "linger"  # the selector's tag for connections refused with a 503


class Refusals:
    """503 answers the accept loop gives itself, with no worker. Closing at once could reset the
    connection before the client has read the answer, so the rest of its request is read and
    discarded for up to `seconds`; at most `limit` linger, beyond that they are simply closed."""

    def __init__(self, sel: selectors.BaseSelector, answer: bytes, limit: int, seconds: float) -> None:
        self._sel = sel
        self._answer = answer
        self._limit = limit
        self._seconds = seconds
        self._linger: dict[socket.socket, float] = {}  # -> when to close it

    def refuse(self, conn: socket.socket) -> None:
        if len(self._linger) >= self._limit:
            conn.close()
            return
        conn.setblocking(False)
        try:
            conn.send(self._answer)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            conn.close()
            return
        self._linger[conn] = time.monotonic() + self._seconds
        self._sel.register(conn, selectors.EVENT_READ, LINGER)

    def drain(self, conn: socket.socket) -> None:
        try:
            if conn.recv(4096):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self.drop(conn)

    def expire(self, now: float) -> None:
        for conn, until in list(self._linger.items()):
            if now >= until:
                self.drop(conn)

    def drop(self, conn: socket.socket) -> None:
        self._linger.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(conn)
        conn.close()

    def close(self) -> None:
        for conn in list(self._linger):
            self.drop(conn)
