"""The exporter's HTTP server: /metrics, the status page at / and /healthz.

Threads: one accept loop and at most `exporter.max_concurrent_requests` workers. The accept
loop hands a connection to a worker only when one is free; beyond the cap it answers 503 itself,
with no thread, and drains the socket briefly (bounded) so the client reads the answer. TLS
handshakes happen in the worker, so a slow handshake never stalls accepting; the accept loop
shuts down a handshake still unfinished at `exporter.request_timeout`.
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
from dataclasses import dataclass
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
from agent.state import State

log = logging.getLogger(__name__)
_LINGER_SECONDS = 1.0
_LINGER_MAX = 256
_BUSY = encode_response(plain(503, "busy, try again"), keep_alive=False)

__all__ = ["ExporterError", "ExporterHandle", "start_exporter"]

App = Callable[[Request], Response]


@dataclass(frozen=True)
class ExporterHandle:
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
        sock = socket.create_server((host or "0.0.0.0", port), family=family, backlog=128)  # noqa: S104
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
        self._queue: queue.SimpleQueue[socket.socket | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._closing = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._linger: dict[socket.socket, float] = {}
        self._thread = threading.Thread(target=self._accept_loop, name="exporter-accept", daemon=True)

    def start(self) -> None:
        self._sock.setblocking(False)
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
        self._wake_r.close()
        self._wake_w.close()

    # -- accept loop --------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._sock, selectors.EVENT_READ, "listen")
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._closing.is_set():
                for key, _ in sel.select(timeout=_LINGER_SECONDS / 2):
                    if key.data == "listen":
                        self._accept(sel)
                    elif key.data == "linger":
                        self._drain(sel, key.fileobj)  # type: ignore[arg-type]
                now = time.monotonic()
                for conn, until in list(self._linger.items()):
                    if now >= until:
                        self._drop(sel, conn)
                self._reap_handshakes(now)
        finally:
            for conn in list(self._linger):
                self._drop(sel, conn)
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
            self._queue.put(conn)
            return
        self._reject(sel, conn)

    def _spawn_worker(self) -> None:
        worker = threading.Thread(target=self._work, name=f"exporter-{len(self._workers)}", daemon=True)
        self._workers.append(worker)
        worker.start()

    def _reject(self, sel: selectors.BaseSelector, conn: socket.socket) -> None:
        """503 without a worker. With TLS there is no cheap way to answer: just close."""
        if self._tls is not None or len(self._linger) >= _LINGER_MAX:
            conn.close()
            return
        conn.setblocking(False)
        try:
            conn.send(_BUSY)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            conn.close()
            return
        # Keep reading (and discarding) the request so closing does not reset the connection
        # before the client has read the 503.
        self._linger[conn] = time.monotonic() + _LINGER_SECONDS
        sel.register(conn, selectors.EVENT_READ, "linger")

    def _drain(self, sel: selectors.BaseSelector, conn: socket.socket) -> None:
        try:
            if conn.recv(4096):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._drop(sel, conn)

    def _drop(self, sel: selectors.BaseSelector, conn: socket.socket) -> None:
        self._linger.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError):
            sel.unregister(conn)
        conn.close()

    # -- workers ------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            conn = self._queue.get()
            if conn is None:
                return
            with self._busy_lock:
                self._active.add(conn)
            try:
                if not self._closing.is_set():
                    self._serve(conn)
            except Exception:
                log.exception("exporter: unexpected error serving a connection")
            finally:
                with self._busy_lock:
                    self._active.discard(conn)
                    self._busy -= 1
                conn.close()

    def _serve(self, conn: socket.socket) -> None:
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
            buffer = bytearray()
            while not self._closing.is_set():
                try:
                    request = read_request(sock, buffer, deadline)
                except BadRequest as exc:
                    sock.settimeout(self._timeout)
                    sock.sendall(encode_response(plain(exc.status, str(exc)), keep_alive=False))
                    return
                if request is None:
                    return
                if request.method not in ("GET", "HEAD"):
                    response = plain(405, headers={"Allow": "GET, HEAD"})
                    keep = False
                else:
                    response = self._app(request)
                    keep = request.keep_alive
                sock.settimeout(self._timeout)
                sock.sendall(encode_response(response, keep, head_only=request.method == "HEAD"))
                if not keep:
                    return
                deadline = time.monotonic() + self._timeout
        except (ClientGone, OSError) as exc:  # ssl.SSLError is an OSError
            log.debug("exporter: connection dropped: %s", exc)
        finally:
            if sock is not conn:
                sock.close()
