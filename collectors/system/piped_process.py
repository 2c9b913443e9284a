"""A child process on two pipes (stdin, stdout), ended with everything it started: how the agent's
worker processes (agent/workers) are started, watched and killed, on Linux and on Windows.

The house keeps process handling here, in collectors/system: this module knows nothing of jobs.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

Piped = subprocess.Popen[bytes]
KILL_GRACE = 1.0  # seconds between terminate and kill


def start_piped(argv: Sequence[str], env: Mapping[str, str]) -> Piped:
    """Start `argv` with stdin and stdout as pipes, stderr to ours (see `_stderr`), in a session
    of its own on POSIX and without a console window on Windows."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=_stderr(),
        env=dict(env),
        start_new_session=sys.platform != "win32",
        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
    )


def _stderr() -> int:
    """The child's stderr (tracebacks of a crash, faulthandler): ours, which under the Windows
    service is `service.log` (sys.stderr there is that file, not the process's standard handle,
    which a service does not have); nowhere when there is none."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return subprocess.DEVNULL


def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The exit code, or None if the process still runs after `timeout` seconds. Polls with
    Event.wait, as the scheduler waits: Popen.wait(timeout) sleeps with clock_nanosleep, which
    an LD_PRELOADed libfaketime (tests/reliability/test_b_time.py) can fail with EINVAL."""
    pause = threading.Event()
    end = time.monotonic() + timeout
    while True:
        code = proc.poll()
        if code is not None or time.monotonic() >= end:
            return code
        pause.wait(0.02)


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the worker and every process it started, then kill what is left after
    KILL_GRACE. Children are found before the worker dies (then they are orphans)."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    for signal_them in ("terminate", "kill"):
        for child in children:
            with contextlib.suppress(psutil.Error):
                getattr(child, signal_them)()
        with contextlib.suppress(OSError):  # already gone
            getattr(proc, signal_them)()
        if wait_exit(proc, KILL_GRACE) is not None and _all_gone(children, KILL_GRACE):
            return


def _all_gone(children: list[Any], timeout: float) -> bool:
    pause = threading.Event()
    end = time.monotonic() + timeout
    while True:
        running = [c for c in children if _running(c)]
        if not running or time.monotonic() >= end:
            return not running
        pause.wait(0.02)


def _running(child: Any) -> bool:
    import psutil

    try:
        return bool(child.is_running()) and child.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def describe_exit(code: int) -> str:
    """'exit code 1', 'killed by signal 11 (SIGSEGV)', 'exit code 0xC0000005 (access violation)'."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-code} ({name})"
    if sys.platform == "win32" and code >= 0xC0000000:
        known = {0xC0000005: "access violation", 0xC00000FD: "stack overflow", 0xC0000017: "out of memory"}
        return f"exit code 0x{code:08X} ({known.get(code, 'NTSTATUS')})"
    return f"exit code {code}"
