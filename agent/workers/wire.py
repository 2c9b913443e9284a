"""Frames between the daemon and a worker: a 4-byte big-endian length, then a pickle.

Pickle is safe here because both ends are this agent's own processes, connected by an
anonymous pipe that nothing else can open; it carries any record type the state takes
(frozen dataclasses, dicts) without a schema of its own. Nothing secret goes into argv or the
worker's environment: the config and the secrets named by environment variable travel in the
first frame on the child's stdin.
"""

from __future__ import annotations

import contextlib
import pickle
import struct
import threading
from typing import Any, BinaryIO

from common.frozen import frozen

_HEADER = struct.Struct(">I")
MAX_FRAME = 256 * 1024 * 1024  # a frame claiming more is a broken pipe, not a message


class WireError(Exception):
    """The other end sent something that is not a frame."""


@frozen
class WorkerSpec:
    """What the child needs to run one job. `action` is "module:function"."""

    job: str
    action: str
    config: Any  # agent.config.schema.Config (typed Any: this module stays import-light)
    state_dir: str
    max_runs_per_job: int
    remaining: float  # seconds until the job's timeout
    log_level: int
    memory_max_bytes: int  # 0: no cap
    # Secrets the config reads from the environment (restic's password_env), by name: kept out
    # of the worker's environment block (/proc/PID/environ), set in its os.environ on arrival.
    secret_env: dict[str, str]


class Channel:
    """One direction of frames; `send` may be called from several threads."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._stream.write(_HEADER.pack(len(data)) + data)
            self._stream.flush()

    def receive(self) -> Any:
        """The next message; EOFError at a clean end of the stream."""
        header = _read_exactly(self._stream, _HEADER.size)
        (size,) = _HEADER.unpack(header)
        if size > MAX_FRAME:
            raise WireError(f"a frame of {size} bytes")
        return pickle.loads(_read_exactly(self._stream, size))  # noqa: S301 - our own child, see above

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            self._stream.close()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    left = size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the pipe was closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
