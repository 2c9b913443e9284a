"""The SNMP trap receiver: two daemon threads of the agent process, off unless configured.

- The *receive* thread blocks in `recvfrom` (no polling: an idle receiver costs no CPU) and
  does the cheap, bounded work per datagram: the source's token bucket (`trap_limits`), the
  source known as a configured device, the BER decode, the community or USM authentication
  and decryption, the classification. An accepted trap goes into a fixed-size queue.
- The *handler* thread applies accepted traps (`effects`: state, BAK-6, the event journaled)
  and writes the trap counters (hostward_traps_received_total{kind},
  hostward_traps_dropped_total{reason}) into the "device_events" record, at most every
  `FLUSH_SECONDS` while traps are dropped and once more when they stop.
Memory is fixed: the source table, the engine clocks per source and the queue are bounded.
Secrets are read once when the receiver starts (and on reload); they never reach a log.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from agent.config.schema import Config, parse_listen
from agent.device_events import add, counted
from agent.state import State
from agent.traps.effects import Effects
from collectors.devices import snmp_usm
from collectors.devices.config import DeviceConfig
from collectors.devices.secrets import snmp_credentials
from collectors.devices.trap_limits import SourceTable
from collectors.devices.traps import (  # fmt: skip
    Trap,
    TrapDropped,
    TrapEvent,
    UsmUser,
    check_community,
    classify,
    in_time_window,
    open_v3,
    parse,
)
from common.frozen import frozen
from common.secrets import SecretFileError, read_secret

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
_FLUSH, _STOP = "flush", "stop"


@frozen
class Sender:
    """A configured device as a trap source: its community (v2c) or USM user (v3)."""

    device: DeviceConfig
    community: bytes = b""
    usm: UsmUser | None = None


def senders(config: Config) -> dict[str, list[Sender]]:
    """{source IP: senders}. A device whose secrets cannot be read, or whose v3 protocols the
    receiver cannot check, is listed without credentials: its traps count as unauthenticated."""
    table: dict[str, list[Sender]] = {}
    for device in config.devices:
        if device.snmp is None:
            continue
        snmp, sender = device.snmp, Sender(device)
        try:
            secrets = snmp_credentials(snmp)
            if snmp.version == "2c":
                sender = Sender(device, community=secrets.community.encode())
            elif snmp_usm.supports(snmp.auth_protocol, snmp.priv_protocol):
                user = UsmUser(snmp.user.encode(), snmp.auth_protocol, secrets.auth_key.encode(),
                               secrets.priv_key.encode())  # fmt: skip
                sender = Sender(device, usm=user)
            else:
                log.warning("traps from %s cannot be checked (%s/%s): they will be dropped",
                            device.name, snmp.auth_protocol, snmp.priv_protocol)  # fmt: skip
        except SecretFileError as exc:
            log.error("traps from %s will be dropped: %s", device.name, exc)
        for address in _addresses(device.host):
            table.setdefault(address, []).append(sender)
    return table


def _addresses(host: str) -> set[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except OSError as exc:
        log.error("trap receiver: cannot resolve %s: %s", host, exc)
        return set()
    return {str(info[4][0]) for info in infos}


class TrapReceiver:
    """The trap receiver's socket and its two threads (receive, handle); `start` it, `close` it."""

    def __init__(
        self,
        config: Config,
        state: State,
        state_dir: Path | None,
        request_run: Callable[[str], str] | None,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        settings = config.devices_traps
        host, port = parse_listen(settings.listen)
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self._senders = senders(config)
        self._trap_community = (
            read_secret(settings.community_file, "trap community").encode()
            if settings.community_file
            else b""
        )
        self._table = SourceTable(settings.rate, settings.burst, settings.max_sources)
        self._queue: queue.Queue[tuple[DeviceConfig, TrapEvent, float] | str] = queue.Queue(settings.queue)
        self._effects = Effects(state, state_dir, request_run)
        self._lock = threading.Lock()
        self._received: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()
        self._last_flush = 0.0
        self._flush_seconds = flush_seconds
        self._closed = threading.Event()
        self._threads = (threading.Thread(target=self._receive, name="traps-receive", daemon=True),
                         threading.Thread(target=self._handle, name="traps-handle", daemon=True))  # fmt: skip

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> TrapReceiver:
        for thread in self._threads:
            thread.start()
        log.info("trap receiver listening on %s:%d (UDP)", *self.address)
        return self

    def close(self, timeout: float = 5.0) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):  # wakes the blocked recvfrom
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        with contextlib.suppress(queue.Full):  # after the queued traps: they are still applied
            self._queue.put(_STOP, timeout=timeout)
        for thread in self._threads:
            thread.join(timeout)

    # -- receive thread ---------------------------------------------------------------------

    def _receive(self) -> None:
        idle_flush = False
        while not self._closed.is_set():
            try:
                data, source = self._sock.recvfrom(65535)
            except TimeoutError:
                self._sock.settimeout(None)  # back to blocking: nothing to write until a trap
                idle_flush = False
                self._request_flush()
                continue
            except OSError:
                if self._closed.is_set():
                    return
                log.exception("trap receiver: receive failed")
                continue
            if self._closed.is_set() or not source:  # shut down while waiting
                return
            now = time.monotonic()
            address = str(source[0]).removeprefix("::ffff:")  # IPv4 on a dual-stack socket
            try:
                self._one(data, address, now)
            except Exception:  # nothing a sender does stops the receiver
                log.exception("trap receiver: a datagram from %s could not be handled", source[0])
                self._drop("malformed")
            if self._dropped and now - self._last_flush >= self._flush_seconds:
                self._request_flush()
            if self._dropped and not idle_flush:
                self._sock.settimeout(self._flush_seconds)  # the last drops are written when it goes quiet
                idle_flush = True

    def _one(self, data: bytes, source: str, now: float) -> None:
        candidates = self._senders.get(source)
        if not candidates:  # before anything else: a spoofed flood costs one lookup a datagram
            return self._drop("unknown_source")
        if not self._table.admit(source, now):
            return self._drop("rate_limited")
        try:
            device, trap = self._accept(data, candidates, source, now)
            event = classify(trap)
        except TrapDropped as dropped:
            return self._drop(dropped.reason)
        if self._queue.full():  # this thread is the only producer: a put now succeeds
            return self._drop("queue_full")
        with self._lock:  # counted before the handler can see it, so it is written with it
            self._received[event.kind] += 1
        self._queue.put_nowait((device, event, time.time()))
        return None

    def _accept(
        self, data: bytes, candidates: list[Sender], source: str, now: float
    ) -> tuple[DeviceConfig, Trap]:
        _, message = parse(data)
        if isinstance(message, Trap):
            for sender in candidates:
                try:
                    check_community(message, (sender.community, self._trap_community))
                    return sender.device, message
                except TrapDropped:
                    continue
            raise TrapDropped("bad_community")
        reason = "unauthenticated"
        for sender in candidates:
            if sender.usm is None:
                continue
            try:
                trap = open_v3(message, sender.usm)
            except TrapDropped as dropped:
                reason = dropped.reason if dropped.reason != "unauthenticated" else reason
                continue
            clocks = self._table.get(source, now)
            if not in_time_window(clocks.engine_clock(trap.engine_id), trap.boots, trap.time, now):
                raise TrapDropped("not_in_time_window")
            clocks.set_engine_clock(trap.engine_id, trap.boots, trap.time, now)
            return sender.device, trap
        raise TrapDropped(reason)

    def _drop(self, reason: str) -> None:
        with self._lock:
            self._dropped[reason] += 1

    def _request_flush(self) -> None:
        self._last_flush = time.monotonic()
        with contextlib.suppress(queue.Full):  # a busy handler writes the counters with the traps
            self._queue.put_nowait(_FLUSH)

    # -- handler thread ---------------------------------------------------------------------

    def _handle(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item == _STOP:
                    self._write_counts(None)
                    return
                if isinstance(item, str):
                    self._write_counts(None)
                    continue
                device, event, at = item
                self._write_counts((device, event, at))
            except Exception:  # one bad trap never stops the receiver
                log.exception("trap receiver: handling a trap failed")

    def _write_counts(self, item: tuple[DeviceConfig, TrapEvent, float] | None) -> None:
        with self._lock:
            received, dropped = dict(self._received), dict(self._dropped)
            self._received.clear()
            self._dropped.clear()
        change = counted(received, dropped) if received or dropped else None
        if item is not None:
            self._effects.apply(item[0], item[1], item[2], change)
        elif change is not None:
            add(self._effects.state, None, (), change)


def start_receiver(config: Config, state: State, state_dir: Path | None,
                   request_run: Callable[[str], str] | None) -> TrapReceiver | None:  # fmt: skip
    """The receiver when `devices_traps.listen` is set, else None. Never raises: a receiver
    that cannot start (address in use, secret unreadable) is logged; the agent goes on."""
    if not config.devices_traps.listen:
        return None
    try:
        return TrapReceiver(config, state, state_dir, request_run).start()
    except (OSError, SecretFileError, ValueError) as exc:
        log.error("trap receiver not started on %s: %s", config.devices_traps.listen, exc)
        return None
