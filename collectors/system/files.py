"""Read files under a root: the live host (`/`), a mounted image, or a fixture tree.

A missing file is an answer (`None`): many settings are simply absent. A file that exists but
cannot be read is not an answer: it raises `ReadDenied`, so a policy never mistakes "could not
look" for "nothing there". Neither is a file read in part: one larger than the reader's cap
raises `FileTooLarge`, never its first megabytes.

Every read, listing and stat under a root stays inside it (links are resolved as in a chroot)
and never blocks: a FIFO, a device or a socket where a file is expected raises `NotAFile`
without being opened (collectors/system/rootfs.py). On Windows (a root such as `C:\\`) these
POSIX mechanisms do not exist: files are read by name, regular files only, within the cap.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from common.errors import HostwardError

MAX_FILE_BYTES = 16 * 1024 * 1024
POSIX = os.name == "posix"
if POSIX:  # pragma: no branch - the Windows path never imports it
    from collectors.system import rootfs


class SystemReadError(HostwardError):
    """OS state could not be read (permission denied, tool missing, unparsable output)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


class ReadDenied(SystemReadError):
    """A file exists but this process may not read it (e.g. /etc/shadow as a normal user)."""


class NotAFile(SystemReadError):
    """A FIFO, device, socket or directory where a file was expected, or a symlink loop."""


class FileTooLarge(SystemReadError):
    """The file is larger than its reader's cap: it is not judged on its first part."""


class Unparsable(SystemReadError):
    """The content is not what the file must hold: binary (NUL bytes), no valid record, or
    mostly lines that do not parse."""


def under(root: str | os.PathLike[str], path: str) -> Path:
    """`path` (absolute, as on the audited system) inside `root`, by name only: for messages
    and for the live root. Never open it for a non-live root; use the readers below."""
    return Path(root) / path.lstrip("/")


def _error(path: str, exc: OSError) -> SystemReadError:
    if isinstance(exc, PermissionError):
        return ReadDenied(path, "permission denied")
    if POSIX and isinstance(exc, rootfs.NotRegular):
        return NotAFile(path, f"not a regular file ({exc.kind}); not read")
    if exc.errno == errno.ELOOP:
        return NotAFile(path, "too many levels of symbolic links (a link loop); not read")
    if exc.errno == errno.EISDIR:
        return NotAFile(path, "not a regular file (directory); not read")
    return SystemReadError(path, f"cannot read: {exc.strerror or exc}")


def _missing(exc: OSError) -> bool:
    return isinstance(exc, FileNotFoundError | NotADirectoryError)


def _read_fd(fd: int, limit: int) -> bytes:
    """Up to limit + 1 bytes: one more than the cap tells a file at the cap from a larger one."""
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = os.read(fd, min(left, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _windows_read(root: str | os.PathLike[str], path: str, limit: int) -> bytes:
    full = os.path.join(os.fspath(root), path.lstrip("/\\"))
    st = os.stat(full)
    if not stat.S_ISREG(st.st_mode):
        kind = "directory" if stat.S_ISDIR(st.st_mode) else "not a file"
        raise NotAFile(path, f"not a regular file ({kind}); not read")
    with open(full, "rb") as fh:
        return fh.read(limit + 1)


def _raw(root: str | os.PathLike[str], path: str, limit: int, head: bool) -> bytes:
    if not POSIX:
        return _windows_read(root, path, limit)
    fd = rootfs.open_file(root, path)
    try:
        if not head and os.fstat(fd).st_size > limit:  # refused unread (a 2 GB sparse file)
            raise FileTooLarge(path, f"larger than {limit} bytes; not judged on a part of it")
        return _read_fd(fd, limit)
    finally:
        os.close(fd)


def read_bytes(root: str | os.PathLike[str], path: str, limit: int, *, head: bool = False) -> bytes | None:
    """The bytes of `path` under `root`, None when absent. Larger than `limit`: FileTooLarge,
    unless `head` (a header is wanted: the first `limit` bytes)."""
    try:
        data = _raw(root, path, limit, head)
    except OSError as exc:
        if _missing(exc):
            return None
        raise _error(path, exc) from exc
    if len(data) > limit:
        if head:
            return data[:limit]
        raise FileTooLarge(path, f"larger than {limit} bytes; not judged on a part of it")
    return data


def read_text(root: str | os.PathLike[str], path: str, limit: int = MAX_FILE_BYTES) -> str | None:
    """The text of `path` under `root`, or None when it does not exist.

    Raises ReadDenied when it exists but cannot be read, FileTooLarge past `limit` (after
    decompression for `*.gz`), Unparsable for binary content (a NUL byte)."""
    data = read_bytes(root, path, limit)
    if data is None:
        return None
    if path.endswith(".gz"):
        import gzip  # only for a .gz file

        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                data = fh.read(limit + 1)
        except (OSError, EOFError) as exc:
            raise Unparsable(path, f"not a readable gzip file: {exc}") from exc
        if len(data) > limit:
            raise FileTooLarge(path, f"larger than {limit} bytes uncompressed; not judged on a part of it")
    nul = data.find(b"\0")
    if nul >= 0:
        raise Unparsable(path, f"binary content (a NUL byte at offset {nul}) in a text file")
    return data.decode("utf-8", "replace")


def list_dir(root: str | os.PathLike[str], path: str) -> list[str]:
    """Sorted entry names of directory `path` under `root`; [] when absent; ReadDenied if unreadable."""
    try:
        if not POSIX:
            return sorted(os.listdir(os.path.join(os.fspath(root), path.lstrip("/\\"))))
        fd = rootfs.open_dir(root, path)
        try:
            return sorted(os.listdir(fd))
        finally:
            os.close(fd)
    except OSError as exc:
        if _missing(exc):
            return []
        raise _error(path, exc) from exc


def stat_in(root: str | os.PathLike[str], path: str) -> os.stat_result | None:
    """stat of `path` under `root` (links followed inside the root), None when absent."""
    try:
        if not POSIX:
            return os.stat(os.path.join(os.fspath(root), path.lstrip("/\\")))
        return rootfs.lstat_in(root, path)
    except OSError as exc:
        if _missing(exc):
            return None
        raise _error(path, exc) from exc


def exists(root: str | os.PathLike[str], path: str) -> bool:
    return stat_in(root, path) is not None


def is_dir(root: str | os.PathLike[str], path: str) -> bool:
    st = stat_in(root, path)
    return st is not None and stat.S_ISDIR(st.st_mode)


def link_name(root: str | os.PathLike[str], path: str) -> str | None:
    """The last name of what the link `path` points to (sysfs `driver` links), without
    following it anywhere; None when `path` is absent or not a link."""
    parent, _, name = path.rstrip("/").rpartition("/")
    try:
        if not POSIX:
            return os.path.basename(os.readlink(os.path.join(os.fspath(root), path.lstrip("/\\"))))
        with rootfs.located(root, parent) as dir_fd:
            return os.path.basename(os.readlink(name, dir_fd=dir_fd).rstrip("/"))
    except OSError as exc:
        if _missing(exc) or exc.errno == errno.EINVAL:
            return None
        raise _error(path, exc) from exc


def host_path(root: str | os.PathLike[str], path: str) -> str | None:
    """A host path naming the regular file `path` under `root` (links resolved inside the
    root), for a consumer that opens by name (SQLite); None when absent."""
    try:
        if not POSIX:
            st = os.stat(full := os.path.join(os.fspath(root), path.lstrip("/\\")))
        else:
            full = rootfs.host_path(root, path)
            st = rootfs.lstat_in(root, path)
        if not stat.S_ISREG(st.st_mode):
            raise NotAFile(path, "not a regular file; not read")
        return full
    except OSError as exc:
        if _missing(exc):
            return None
        raise _error(path, exc) from exc


def read_dir_texts(root: str | os.PathLike[str], path: str, suffix: str) -> Iterator[tuple[str, str]]:
    """(audited path, text) for every file in directory `path` whose name ends with `suffix`."""
    for name in list_dir(root, path):
        if name.endswith(suffix):
            full = f"{path.rstrip('/')}/{name}"
            text = read_text(root, full)
            if text is not None:
                yield full, text


__all__ = [
    "MAX_FILE_BYTES",
    "FileTooLarge",
    "NotAFile",
    "ReadDenied",
    "SystemReadError",
    "Unparsable",
    "exists",
    "host_path",
    "is_dir",
    "link_name",
    "list_dir",
    "read_bytes",
    "read_dir_texts",
    "read_text",
    "stat_in",
    "under",
]
