"""Reading a secret from a file the config names: one way, for every floor.

A secret (a restic password, an SNMP community or key, an SSH password) lives in a file that
only root (or the agent's group) may read; it never travels in argv, logs or metrics.
"""

from __future__ import annotations

import os
import stat

from common.errors import HostwardError

MAX_SECRET_BYTES = 4096


class SecretFileError(HostwardError):
    """A secret file is missing, unreadable, empty or readable by everyone."""


def read_secret(path: str, what: str) -> str:
    """The first line of `path`, without its line ending.

    Raises SecretFileError if the file cannot be read, is empty, too large, or readable by
    other users (a secret must be mode 0600 or 0640).
    """
    try:
        with open(path, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            data = fh.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise SecretFileError(f"{what}: cannot read {path}: {exc.strerror or exc}") from exc
    if mode & stat.S_IROTH:
        raise SecretFileError(f"{what}: {path} is readable by every user; chmod 600 it")
    if len(data) > MAX_SECRET_BYTES:
        raise SecretFileError(f"{what}: {path} is larger than {MAX_SECRET_BYTES} bytes")
    try:
        text = data.decode("utf-8").splitlines()[0] if data.strip() else ""
    except UnicodeDecodeError as exc:
        raise SecretFileError(f"{what}: {path} is not UTF-8 text") from exc
    if not text:
        raise SecretFileError(f"{what}: {path} is empty")
    return text
