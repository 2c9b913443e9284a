"""Run commands as argument tuples, never shell strings.

The runner owns timeouts (the whole process group is killed), exit codes, output limits and
the child's environment. Children die with the agent (PR_SET_PDEATHSIG on Linux), so a killed
agent never leaves a half-finished backup running on its own.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Protocol

from collectors.system.libc import libc as load_libc
from common.errors import CommandNotFound, CommandPermissionDenied
from common.frozen import frozen

if sys.platform != "win32":
    import resource
if TYPE_CHECKING:
    import ctypes

DEFAULT_MAX_OUTPUT = 32 * 1024 * 1024
# A child inherits only these from the agent's environment: no secret leaks by accident.
_INHERITED_ENV = ("PATH", "HOME", "TMPDIR", "SYSTEMROOT", "WINDIR", "USERPROFILE", "PROGRAMDATA")
_PR_SET_PDEATHSIG = 1
# Negative return codes of a child killed by these (signal.SIGKILL does not exist on Windows).
_FATAL_SIGNALS = frozenset(
    -int(getattr(signal, name)) for name in ("SIGSEGV", "SIGABRT", "SIGKILL") if hasattr(signal, name)
)
_OOM_MARKS = (b"MemoryError", b"Cannot allocate memory", b"out of memory", b"Out of memory")

LineCallback = Callable[[bytes], None]


@frozen
class CommandResult:
    """What a finished (or killed) command left behind.

    `stdout`/`stderr` are cut at the runner's output limit (`truncated` says so).
    `returncode` is negative when a signal ended the process (as in subprocess).
    """

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    duration: float
    timed_out: bool = False
    truncated: bool = False
    memory_limit: int = 0  # the address-space cap the child ran under (bytes), 0 for none

    @property
    def memory_exhausted(self) -> bool:
        """The child failed under a memory cap the way programs do when an allocation is refused
        (MemoryError, ENOMEM, or killed by SIGSEGV/SIGABRT/SIGKILL without a timeout)."""
        if not self.memory_limit or self.returncode == 0 or self.timed_out:
            return False
        if self.returncode in _FATAL_SIGNALS:
            return True
        return any(m in self.stderr for m in _OOM_MARKS)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def stderr_tail(self, limit: int = 500) -> str:
        """The last `limit` characters of stderr as text, for error messages."""
        text = self.stderr.decode("utf-8", "replace").strip()
        return text[-limit:]


class Runner(Protocol):
    """Runs one command. Tests pass fakes only where the real program cannot run."""

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        cwd: str | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        on_stdout_line: LineCallback | None = None,
    ) -> CommandResult: ...


def _child_setup(libc: ctypes.CDLL | None, memory_limit: int = 0) -> None:  # pragma: no cover - child
    if libc is not None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if memory_limit > 0:  # the watchdog's memory cap: an allocation past it fails in the child only
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))


def exited_within(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait up to `seconds` for `proc` to end and reap it; whether it ended. On Linux the wait
    is a pidfd poll, woken the moment the process exits: Popen.wait(timeout) polls with sleeps of
    up to 50 ms, which every restic run (and a restore's wall time) would pay."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None and proc.returncode is None:
        try:
            fd = pidfd_open(proc.pid)
        except OSError:  # an old kernel (ENOSYS), or the process already reaped
            pass
        else:
            try:
                poller = select.poll()
                poller.register(fd, select.POLLIN)
                if not poller.poll(max(0, min(int(seconds * 1000), 2**31 - 1))):
                    return False
            finally:
                os.close(fd)
            proc.wait()
            return True
    try:
        proc.wait(timeout=max(0.0, seconds))
    except subprocess.TimeoutExpired:
        return False
    return True


class _Reader(threading.Thread):
    """Drains one pipe, keeping at most `limit` bytes and feeding whole lines to a callback."""

    def __init__(self, pipe: IO[bytes], limit: int, on_line: LineCallback | None) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.limit = limit
        self.on_line = on_line
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False

    def run(self) -> None:
        for line in iter(self.pipe.readline, b""):
            if self.on_line is not None:
                try:
                    self.on_line(line)
                except Exception:  # a display callback must never break the command
                    self.on_line = None
            room = self.limit - self.size
            if room <= 0:
                self.truncated = True
                continue
            if len(line) > room:
                line = line[:room]
                self.truncated = True
            self.chunks.append(line)
            self.size += len(line)
        self.pipe.close()

    def data(self) -> bytes:
        return b"".join(self.chunks)


class SubprocessRunner:
    """The real runner. `base_env` replaces the inherited environment's selected variables;
    `memory_limit` (bytes, 0 = none) caps each child's address space (RLIMIT_AS)."""

    def __init__(self, base_env: Mapping[str, str] | None = None, memory_limit: int = 0) -> None:
        self.memory_limit = max(0, int(memory_limit))
        if base_env is None:
            base_env = {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ}
            base_env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            base_env["LC_ALL"] = "C.UTF-8"
        self.base_env = dict(base_env)

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        cwd: str | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        on_stdout_line: LineCallback | None = None,
    ) -> CommandResult:
        """Run `argv` and wait at most `timeout` seconds.

        Raises CommandNotFound / CommandPermissionDenied when the program cannot start.
        A timeout kills the process group and returns a result with `timed_out=True`.
        """
        args = tuple(str(a) for a in argv)
        child_env = {**self.base_env, **(env or {})}
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=child_env,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=self._preexec(),
            )
        except FileNotFoundError as exc:
            raise CommandNotFound(args[0], "program not found") from exc
        except PermissionError as exc:
            raise CommandPermissionDenied(args[0], "permission denied") from exc
        assert proc.stdout is not None and proc.stderr is not None
        out = _Reader(proc.stdout, max_output, on_stdout_line)
        err = _Reader(proc.stderr, max_output, None)
        out.start()
        err.start()
        if stdin is not None and proc.stdin is not None:
            try:
                proc.stdin.write(stdin)
                proc.stdin.close()
            except BrokenPipeError:
                pass
        timed_out = self._wait(proc, timeout)
        out.join()
        err.join()
        return CommandResult(
            argv=args,
            returncode=proc.returncode,
            stdout=out.data(),
            stderr=err.data(),
            duration=time.monotonic() - started,
            timed_out=timed_out,
            truncated=out.truncated or err.truncated,
            memory_limit=self.memory_limit,
        )

    def _wait(self, proc: subprocess.Popen[bytes], timeout: float) -> bool:
        """Wait for `proc`; past `timeout`, kill its group and return True (timed out).
        `collectors/system/cancellable.py` overrides this to honour a cancel event."""
        if exited_within(proc, timeout):
            return False
        _kill_group(proc)
        proc.wait()
        return True

    def _preexec(self) -> Callable[[], None] | None:
        if sys.platform == "win32":  # no preexec_fn there: the per-command memory cap is POSIX only
            return None
        libc, limit = load_libc(), self.memory_limit
        if libc is None and not limit:
            return None
        return lambda: _child_setup(libc, limit)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except ProcessLookupError:
        pass
