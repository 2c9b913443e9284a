"""Resolve a path inside a root as a chroot would, and open it without blocking (POSIX).

An offline root (a mounted disk image, a fixture tree) is hostile input: `/etc/shadow` in it may
be a symlink to `/etc/shadow` of the host, `../../..` may climb out of it, `/etc` may be a
symlinked directory, `/etc/passwd` may be a FIFO (opening it for reading blocks for ever) or a
device node (opening `/dev/watchdog` arms the hardware watchdog). So:

- Links are resolved against the root: an absolute target starts again at the root and `..`
  stops at the root, exactly as inside `chroot(root)`. The kernel does it where it can
  (`openat2(RESOLVE_IN_ROOT)`, Linux 5.6+, called through `syscall(437)`); where the syscall is
  missing (ENOSYS) or filtered by seccomp (EPERM), `_walk` does it component by component with
  `O_PATH | O_NOFOLLOW` opens and `readlinkat`, at most `MAX_LINKS` links (ELOOP beyond).
- The final object is first opened with `O_PATH` (which opens nothing: no FIFO wait, no device
  driver called) and `fstat`ed; only a regular file (or, for listings, a directory) is then
  opened for reading, with `O_NONBLOCK | O_NOCTTY`, and checked to be the same inode.

This module is POSIX only; `collectors/system/files.py` holds the Windows path and never
imports it there.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager

MAX_LINKS = 40  # the kernel's own limit (MAXSYMLINKS)


def _flag(name: str) -> int:
    """An os.O_* flag, 0 where the platform lacks it: the module must import on Windows (its
    callers there never resolve through it, but modules that import it load there)."""
    return int(getattr(os, name, 0))


_O_PATH = _flag("O_PATH")  # Linux; elsewhere the walk opens with O_NONBLOCK instead
_O_NONBLOCK, _O_NOCTTY, _O_CLOEXEC = _flag("O_NONBLOCK"), _flag("O_NOCTTY"), _flag("O_CLOEXEC")
_O_NOFOLLOW, _O_DIRECTORY = _flag("O_NOFOLLOW"), _flag("O_DIRECTORY")
_PROBE = (_O_PATH or (os.O_RDONLY | _O_NONBLOCK | _O_NOCTTY)) | _O_CLOEXEC
_READ = os.O_RDONLY | _O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC
_DIR = os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_IN_ROOT = 0x10
_MACHINE = os.uname().machine.lower() if hasattr(os, "uname") else ""  # platform.machine(), without platform
_SYS_OPENAT2 = {"x86_64": 437, "aarch64": 437, "amd64": 437, "arm64": 437}.get(_MACHINE)


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


class _Openat2:
    """The openat2 syscall, or None once the kernel said ENOSYS."""

    def __init__(self) -> None:
        self.enabled = _SYS_OPENAT2 is not None and bool(_O_PATH)
        self._libc: ctypes.CDLL | None = None
        self._lock = threading.Lock()

    def _syscall(self) -> ctypes.CDLL | None:
        with self._lock:
            if self._libc is None and self.enabled:
                try:
                    self._libc = ctypes.CDLL(None, use_errno=True)
                    self._libc.syscall.restype = ctypes.c_long
                except (OSError, AttributeError):
                    self.enabled = False
            return self._libc

    def open(self, dirfd: int, path: str, flags: int) -> int | None:
        """An fd, or None when the kernel cannot do it here (the caller walks instead)."""
        libc = self._syscall() if self.enabled else None
        if libc is None:
            return None
        how = _OpenHow(flags, 0, _RESOLVE_IN_ROOT | _RESOLVE_NO_MAGICLINKS)
        name = os.fsencode(path or ".")
        for _ in range(16):  # EAGAIN: a concurrent rename raced the `..` check; try again
            fd = int(
                libc.syscall(
                    ctypes.c_long(_SYS_OPENAT2 or 0),
                    ctypes.c_int(dirfd),
                    ctypes.c_char_p(name),
                    ctypes.byref(how),
                    ctypes.c_size_t(ctypes.sizeof(how)),
                )
            )
            if fd >= 0:
                return fd
            err = ctypes.get_errno()
            if err == errno.ENOSYS:
                self.enabled = False
                return None
            if err in (errno.EPERM, errno.EINVAL):  # seccomp, a kernel without these flags: walk
                return None  # (a real EPERM is met again, and reported, by the walk)
            if err != errno.EAGAIN:
                raise OSError(err, os.strerror(err), path)
        return None


OPENAT2 = _Openat2()


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def _walk(root_fd: int, path: str) -> tuple[int, list[str]]:
    """An O_PATH fd of `path` resolved under `root_fd`, by hand (links against the root), and
    the names that lead to it from the root (no link, no `..` among them)."""
    stack = [os.dup(root_fd)]
    names: list[str] = []
    todo = _parts(path)
    links = 0
    try:
        while todo:
            name = todo.pop(0)
            if name == "..":
                if len(stack) > 1:
                    os.close(stack.pop())
                    names.pop()
                continue
            try:
                fd = os.open(name, _PROBE | _O_NOFOLLOW, dir_fd=stack[-1])
                is_link = stat.S_ISLNK(os.fstat(fd).st_mode)
            except OSError as exc:
                if exc.errno != errno.ELOOP or _O_PATH:  # without O_PATH a link answers ELOOP
                    raise
                fd, is_link = -1, True
            if is_link:
                if fd >= 0:
                    os.close(fd)
                links += 1
                if links > MAX_LINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                target = os.readlink(name, dir_fd=stack[-1])
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                    names.clear()
                todo = _parts(target) + todo
                continue
            if todo and not stat.S_ISDIR(os.fstat(fd).st_mode):
                os.close(fd)
                raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
            stack.append(fd)
            names.append(name)
        return stack.pop(), names
    finally:
        for fd in stack:
            os.close(fd)


def _resolve(root_fd: int, path: str) -> int:
    fd = OPENAT2.open(root_fd, path.lstrip("/"), _O_PATH | _O_CLOEXEC) if _O_PATH else None
    return fd if fd is not None else _walk(root_fd, path)[0]


@contextmanager
def opened_root(root: str | os.PathLike[str]) -> Iterator[int]:
    fd = os.open(os.fspath(root) or "/", (_O_PATH or os.O_RDONLY) | _O_DIRECTORY | _O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


@contextmanager
def located(root: str | os.PathLike[str], path: str) -> Iterator[int]:
    """An fd that names `path` under `root` (O_PATH where the OS has it: fstat only)."""
    with opened_root(root) as root_fd:
        fd = _resolve(root_fd, path)
    try:
        yield fd
    finally:
        os.close(fd)


def lstat_in(root: str | os.PathLike[str], path: str) -> os.stat_result:
    """stat of `path` under `root`, links followed inside the root. Raises OSError (ENOENT...)."""
    with located(root, path) as fd:
        return os.fstat(fd)


def _reopen(fd: int, flags: int) -> int:
    """Open for real the object an O_PATH fd names (the same inode, whatever the path does now)."""
    if not _O_PATH:
        return os.dup(fd)
    try:
        return os.open(f"/proc/self/fd/{fd}", flags)
    except FileNotFoundError:
        raise OSError(errno.ENOSYS, "no /proc to reopen through") from None


class NotRegular(OSError):
    """The path names a FIFO, a device, a socket (or a directory where a file was wanted)."""

    def __init__(self, kind: str) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({kind})")
        self.kind = kind


def kind_of(mode: int) -> str:
    for test, name in (
        (stat.S_ISREG, "file"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISLNK, "symlink"),
    ):
        if test(mode):
            return name
    return "unknown"


def open_file(root: str | os.PathLike[str], path: str) -> int:
    """A read-only fd of the regular file `path` under `root`. Raises NotRegular or OSError."""
    with opened_root(root) as root_fd:
        probe = _resolve(root_fd, path)
        try:
            before = os.fstat(probe)
            if not stat.S_ISREG(before.st_mode):
                raise NotRegular(kind_of(before.st_mode))
            try:
                fd = _reopen(probe, _READ)
            except OSError as exc:
                if exc.errno != errno.ENOSYS:
                    raise
                fd = _reopen_by_walk(root_fd, path)
        finally:
            os.close(probe)
    after = os.fstat(fd)
    if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise NotRegular("replaced while opening")
    return fd


def _reopen_by_walk(root_fd: int, path: str) -> int:
    """No /proc: resolve the parent inside the root, then open the last name without following."""
    parent, _, name = path.rstrip("/").rpartition("/")
    if name in ("", ".", ".."):
        raise NotRegular("directory")
    dir_fd = _resolve(root_fd, parent)
    try:
        return os.open(name or ".", _READ | _O_NOFOLLOW, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


def open_dir(root: str | os.PathLike[str], path: str) -> int:
    """A read-only fd of the directory `path` under `root` (for os.listdir/scandir)."""
    with located(root, path) as probe:
        mode = os.fstat(probe).st_mode
        if not stat.S_ISDIR(mode):
            raise NotADirectoryError(errno.ENOTDIR, f"not a directory ({kind_of(mode)})", path)
        try:
            return _reopen(probe, _DIR)
        except OSError as exc:
            if exc.errno != errno.ENOSYS:
                raise
    with opened_root(root) as root_fd:
        dir_fd = _resolve(root_fd, path)
        try:
            return os.open(".", _DIR, dir_fd=dir_fd)
        finally:
            os.close(dir_fd)


def host_path(root: str | os.PathLike[str], path: str) -> str:
    """The host path of `path` under `root` with every link resolved inside the root, for the
    few consumers that need a name (SQLite, apt's helper). The name holds no link; it names
    what the root holds unless the tree is changed between this call and their open."""
    with opened_root(root) as root_fd:
        fd, names = _walk(root_fd, path)
    os.close(fd)
    return os.path.join(os.path.abspath(os.fspath(root) or "/"), *names)


def dir_path(root: str | os.PathLike[str], path: str, *, create: bool = False) -> str:
    """The host path of directory `path` under `root`, links resolved inside the root (a
    writer puts its file there: a symlinked `/etc` of an image never sends it to the host's).
    Missing directories are made when `create`; raises OSError."""
    try:
        full = host_path(root, path)
    except FileNotFoundError:
        parent, _, name = path.rstrip("/").rpartition("/")
        if not create or name in ("", ".", ".."):
            raise
        full = os.path.join(dir_path(root, parent, create=True), name)
        os.mkdir(full, 0o755)
    if not stat.S_ISDIR(os.lstat(full).st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", path)
    return full
