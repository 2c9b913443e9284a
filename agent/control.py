"""Controlling a running agent without signals: config-file watch and the stop request.

Windows has no SIGHUP and a service or an admin cannot send SIGTERM there, so on every
platform the daemon also:

- reloads its config when the file changes: the scheduler loop fingerprints the file (SHA-256
  of its bytes, or "missing") every `CONFIG_POLL` seconds; a new fingerprint is acted on once
  it has stayed the same for one more poll (an editor's half-written save is not loaded), with
  the same keep-last-good rule as SIGHUP;
- stops cleanly when the file `stop-request` appears in its state directory (`hostward stop`
  writes it; the state directory is private to root / SYSTEM and Administrators). The agent
  removes it when it stops, and removes a stale one at its start.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from common.digest import sha256  # not hashlib: libcrypto stays out of the daemon

CONFIG_POLL = 3.0  # seconds between two looks at the config file
MAX_CONFIG_BYTES = 4 * 1024 * 1024
STOP_FILE = "stop-request"
MISSING = "missing"


def fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes; "missing" when it cannot be read (mid-save, deleted)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError:
        return MISSING
    digest: str = sha256(data).hexdigest()
    return digest


class ConfigWatch:
    """Says when the config file has changed and settled. `source` None: nothing to watch."""

    def __init__(
        self,
        source: Path | None,
        poll: float = CONFIG_POLL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._poll = poll
        self._monotonic = monotonic
        self._next = monotonic() + poll
        self._current = fingerprint(source) if source is not None else MISSING
        self._seen: str | None = None  # a new fingerprint waiting for one more poll

    def mark_loaded(self) -> None:
        """The file was just (re)read for another reason (SIGHUP): take it as current."""
        if self._source is not None:
            self._current = fingerprint(self._source)
            self._seen = None

    def changed(self) -> bool:
        """True once per settled change; cheap between polls."""
        if self._source is None or self._monotonic() < self._next:
            return False
        self._next = self._monotonic() + self._poll
        now = fingerprint(self._source)
        if now == self._current:
            self._seen = None
            return False
        if now != self._seen:  # new, or still moving: look again next poll
            self._seen = now
            return False
        self._current, self._seen = now, None
        return True


def stop_path(state_dir: Path) -> Path:
    return Path(state_dir) / STOP_FILE


def clear_stop(state_dir: Path) -> bool:
    """Remove a stop request; True if there was one."""
    try:
        stop_path(state_dir).unlink()
    except FileNotFoundError:
        return False
    except OSError:
        return stop_path(state_dir).exists()
    return True


def stop_requested(state_dir: Path) -> bool:
    return stop_path(state_dir).exists()


def request_stop(state_dir: Path) -> Path:
    """Write the stop request (raises OSError). The agent notices it within a second."""
    path = stop_path(state_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, f"stop requested by process {os.getpid()} at {time.time():.0f}\n".encode("ascii"))
    finally:
        os.close(fd)
    return path
