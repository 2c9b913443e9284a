"""The exporter's HTTP server: /metrics, the status page at / and /healthz.

Threads: one accept loop and at most `exporter.max_concurrent_requests` workers. Over plain
HTTP the accept loop itself waits for each request head (pending.py: bounded, oldest dropped
first, each by its deadline) and hands a worker only a complete request, so idle or slow
clients never hold a worker; a keep-alive connection comes back to the loop between requests.
Beyond the cap it answers 503 itself, with no thread, and drains the socket briefly (bounded)
so the client reads the answer. TLS connections go to a worker at once: the handshake happens
there, so a slow handshake never stalls accepting; the accept loop shuts down a handshake still
unfinished at `exporter.request_timeout`.
A scrape never collects: it renders the latest stored snapshot, cached per state version.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from agent.config import LoadedConfig
from agent.config.schema import TLSConfig, parse_listen
from agent.exporter.errors import ExporterError
from agent.exporter.http import (
    BadRequest,
    ClientGone,
    Request,
    Response,
    encode_response,
    plain,
    read_request,
)
from agent.exporter.pending import HEAD, LINGER, PendingHeads, Refusals, Waiting
from agent.state import State
from common.frozen import frozen

log = logging.getLogger(__name__)
_LINGER_SECONDS = 1.0
_LINGER_MAX = 256
_BACKLOG = 1024  # capped by net.core.somaxconn
_PENDING_MAX = 512  # connections waiting for their request head, well under a 1024 fd limit
_BUSY = encode_response(plain(503, "busy, try again"), keep_alive=False)

__all__ = ["ExporterError", "ExporterHandle", "start_exporter"]

App = Callable[[Request], Response]


@frozen
class ExporterHandle:
    """A running exporter: the address it is bound to, its URL, and how to stop it."""

    address: tuple[str, int]
    url: str
    close: Callable[[], None]


def start_exporter(loaded: LoadedConfig, state: State) -> ExporterHandle:
    """Bind and serve in background threads. Raises ExporterError (bind failure, bad TLS
    files, broken auth config): the exporter fails closed, it never serves unauthenticated
    when authentication was configured."""
    from agent.exporter.routes import Routes  # imports prometheus_client: only when serving

    cfg = loaded.config.exporter
    auth = None
    if cfg.basic_auth_users:  # bcrypt and hmac load only when auth is configured
        from agent.exporter.auth import BasicAuth

        auth = BasicAuth(cfg.basic_auth_users)
    tls = _tls_context(cfg.tls) if cfg.tls is not None else None
    host, port = parse_listen(cfg.listen)
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # A deep backlog: with a full accept queue Linux drops the client's last handshake
        # packet and the connection lands seconds later, outliving its request deadline.
        sock = socket.create_server((host or "0.0.0.0", port), family=family, backlog=_BACKLOG)  # noqa: S104
    except OSError as exc:
        raise ExporterError(f"exporter cannot listen on {cfg.listen}: {exc}") from exc
    server = _Server(sock, Routes(state, auth), tls, cfg.max_concurrent_requests, float(cfg.request_timeout))
    server.start()
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"{'https' if tls else 'http'}://{shown}:{bound_port}/"
    log.info("exporter listening on %s", url)
    return ExporterHandle((bound_host, bound_port), url, server.close)


def _tls_context(cfg: TLSConfig) -> Any:
    import ssl  # only when TLS is configured: it costs memory

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if cfg.min_version == "TLS13" else ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
        if cfg.client_ca_file:
            ctx.load_verify_locations(cafile=cfg.client_ca_file)
            ctx.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise ExporterError(f"exporter TLS files unusable: {exc}") from exc
    return ctx


class _Server:
    def __init__(self, sock: socket.socket, app: App, tls: Any, workers: int, timeout: float) -> None:
        self._sock = sock
        self._app = app
        self._tls = tls
        self._timeout = timeout
        self._max = workers
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._active: set[socket.socket] = set()  # connections workers hold (under _busy_lock)
        self._handshakes: dict[socket.socket, float] = {}  # TLS handshakes in progress -> deadline
        self._queue: queue.SimpleQueue[tuple[socket.socket, bytearray] | None] = queue.SimpleQueue()
        self._returned: queue.SimpleQueue[tuple[socket.socket, bytearray]] = queue.SimpleQueue()
        self._sel = selectors.DefaultSelector()  # the accept loop's
        self._pending = PendingHeads(self._sel, _PENDING_MAX, timeout)
        self._refusals = Refusals(self._sel, _BUSY, _LINGER_MAX, _LINGER_SECONDS)
        self._workers: list[threading.Thread] = []
        self._closing = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._accept_loop, name="exporter-accept", daemon=True)

    def start(self) -> None:
        self._sock.setblocking(False)
        self._wake_r.setblocking(False)
        self._thread.start()

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._wake_w.send(b"x")
        self._thread.join(5)
        with self._busy_lock:  # wake workers waiting on idle keep-alive connections
            for conn in self._active:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(self._timeout + 1)
        while not self._returned.empty():  # handed back after the loop ended
            self._returned.get_nowait()[0].close()
        self._wake_r.close()
        self._wake_w.close()

    # -- accept loop --------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        sel, pending = self._sel, self._pending
        sel.register(self._sock, selectors.EVENT_READ, "listen")
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._closing.is_set():
                for key, _ in sel.select(timeout=_LINGER_SECONDS / 2):
                    conn: socket.socket = key.fileobj  # type: ignore[assignment]
                    if key.data == "listen":
                        self._accept(sel)
                    elif key.data == HEAD:
                        self._dispatch(sel, conn, pending.read(conn))
                    elif key.data == "wake":
                        self._take_back(sel, pending)
                    elif key.data == LINGER:
                        self._refusals.drain(conn)
                now = time.monotonic()
                pending.expire(now)
                self._refusals.expire(now)
                self._reap_handshakes(now)
        finally:
            self._refusals.close()
            pending.close()
            sel.close()
            self._sock.close()

    def _reap_handshakes(self, now: float) -> None:
        """A TLS client dribbling its hello gets the same whole-request deadline as a plain
        client dribbling its headers: the socket is shut down under the worker."""
        with self._busy_lock:
            expired = [conn for conn, until in self._handshakes.items() if now >= until]
            for conn in expired:
                del self._handshakes[conn]
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def _accept(self, sel: selectors.BaseSelector) -> None:
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # EMFILE and friends: log, keep serving what we can
            log.warning("exporter accept failed: %s", exc)
            time.sleep(0.05)
            return
        if self._tls is None:
            self._dispatch(sel, conn, self._pending.add(conn))
        else:  # TLS: the worker shakes hands, then reads the head itself
            self._dispatch(sel, conn, Waiting(bytearray(), 0.0))

    def _dispatch(self, sel: selectors.BaseSelector, conn: socket.socket, entry: Waiting | None) -> None:
        """A worker for `conn` if one is free, else 503; nothing while its head is still coming."""
        if entry is None:
            return
        with self._busy_lock:
            free = self._busy < self._max
            if free:
                self._busy += 1
        if free:
            conn.setblocking(True)
            with self._busy_lock:  # every connection handed over has a worker of its own
                needed = len(self._workers) < self._busy
            if needed:
                self._spawn_worker()
            self._queue.put((conn, entry.buffer))
            return
        self._reject(sel, conn)

    def _take_back(self, sel: selectors.BaseSelector, pending: PendingHeads) -> None:
        """Keep-alive connections the workers handed back wait here for their next request."""
        with contextlib.suppress(OSError):
            self._wake_r.recv(4096)
        while not self._returned.empty():
            conn, buffer = self._returned.get_nowait()
            self._dispatch(sel, conn, pending.add(conn, buffer))

    def _spawn_worker(self) -> None:
        worker = threading.Thread(target=self._work, name=f"exporter-{len(self._workers)}", daemon=True)
        self._workers.append(worker)
        worker.start()

    def _reject(self, sel: selectors.BaseSelector, conn: socket.socket) -> None:
        """503 without a worker. With TLS there is no cheap way to answer: just close."""
        if self._tls is not None:
            conn.close()
        else:
            self._refusals.refuse(conn)

    # -- workers ------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            conn, buffer = item
            with self._busy_lock:
                self._active.add(conn)
            again = False
            try:
                if not self._closing.is_set():
                    again = self._serve(conn, buffer)
            except Exception:
                log.exception("exporter: unexpected error serving a connection")
            finally:
                with self._busy_lock:
                    self._active.discard(conn)
                    self._busy -= 1
                if again:
                    self._hand_back(conn, buffer)
                else:
                    conn.close()

    def _hand_back(self, conn: socket.socket, buffer: bytearray) -> None:
        """Give a kept-alive plain connection back to the accept loop until its next request."""
        self._returned.put((conn, buffer))
        with contextlib.suppress(OSError):  # closing: close() closes what is still queued
            self._wake_w.send(b"r")

    def _serve(self, conn: socket.socket, buffer: bytearray) -> bool:
        """Serve requests on `conn`; True when a plain keep-alive connection should wait for
        its next request in the accept loop (with `buffer` holding any pipelined bytes)."""
        deadline = time.monotonic() + self._timeout
        sock = conn
        try:
            if self._tls is not None:
                conn.settimeout(self._timeout)
                with self._busy_lock:
                    self._handshakes[conn] = deadline
                try:
                    sock = self._tls.wrap_socket(conn, server_side=True)
                finally:
                    with self._busy_lock:
                        self._handshakes.pop(conn, None)
            while not self._closing.is_set():
                try:
                    request = read_request(sock, buffer, deadline)
                except BadRequest as exc:
                    sock.settimeout(self._timeout)
                    sock.sendall(encode_response(plain(exc.status, str(exc)), keep_alive=False))
                    return False
                if request is None:
                    return False
                if request.method not in ("GET", "HEAD"):
                    response = plain(405, headers={"Allow": "GET, HEAD"})
                    keep = False
                else:
                    response = self._app(request)
                    keep = request.keep_alive
                sock.settimeout(self._timeout)
                sock.sendall(encode_response(response, keep, head_only=request.method == "HEAD"))
                if not keep:
                    return False
                if sock is conn:
                    return not self._closing.is_set()
                deadline = time.monotonic() + self._timeout
        except (ClientGone, OSError) as exc:  # ssl.SSLError is an OSError
            log.debug("exporter: connection dropped: %s", exc)
        finally:
            if sock is not conn:
                sock.close()
        return False
