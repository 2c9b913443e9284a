"""Read files under a root: the live host (`/`), a mounted image, or a fixture tree.

A missing file is an answer (`None`): many settings are simply absent. A file that exists but
cannot be read is not an answer: it raises `ReadDenied`, so a policy never mistakes "could not
look" for "nothing there".
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

from collectors.errors import HostwardError

MAX_FILE_BYTES = 16 * 1024 * 1024


class SystemReadError(HostwardError):
    """OS state could not be read (permission denied, tool missing, unparsable output)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


class ReadDenied(SystemReadError):
    """A file exists but this process may not read it (e.g. /etc/shadow as a normal user)."""


def under(root: str | os.PathLike[str], path: str) -> Path:
    """`path` (absolute, as on the audited system) inside `root`. under('/mnt/img', '/etc') ->
    /mnt/img/etc."""
    return Path(root) / path.lstrip("/")


def read_text(root: str | os.PathLike[str], path: str, limit: int = MAX_FILE_BYTES) -> str | None:
    """The text of `path` under `root`, or None when it does not exist.

    Raises ReadDenied when it exists but cannot be read; gzip files (`*.gz`) are decompressed.
    """
    full = under(root, path)
    try:
        if full.suffix == ".gz":
            with gzip.open(full, "rb") as fh:
                data = fh.read(limit)
        else:
            with open(full, "rb") as fh:
                data = fh.read(limit)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError as exc:
        raise ReadDenied(path, "permission denied") from exc
    except (OSError, EOFError) as exc:
        raise SystemReadError(path, f"cannot read: {exc}") from exc
    return data.decode("utf-8", "replace")


def read_bytes(root: str | os.PathLike[str], path: str, limit: int) -> bytes | None:
    """At most `limit` bytes from the start of `path`, None when absent; ReadDenied if unreadable."""
    full = under(root, path)
    try:
        with open(full, "rb") as fh:
            return fh.read(limit)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError as exc:
        raise ReadDenied(path, "permission denied") from exc
    except OSError as exc:
        raise SystemReadError(path, f"cannot read: {exc}") from exc


def list_dir(root: str | os.PathLike[str], path: str) -> list[str]:
    """Sorted entry names of directory `path` under `root`; [] when absent; ReadDenied if unreadable."""
    try:
        return sorted(os.listdir(under(root, path)))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except PermissionError as exc:
        raise ReadDenied(path, "permission denied") from exc


def read_dir_texts(root: str | os.PathLike[str], path: str, suffix: str) -> Iterator[tuple[str, str]]:
    """(audited path, text) for every file in directory `path` whose name ends with `suffix`."""
    for name in list_dir(root, path):
        if name.endswith(suffix):
            full = f"{path.rstrip('/')}/{name}"
            text = read_text(root, full)
            if text is not None:
                yield full, text
