"""A runner that a job's cancel event can stop (scheduler shutdown, job timeout).

A long command (a nightly backup) must not outlive the job that started it: when the event is
set, the command gets SIGINT first, so that it can clean up (restic removes its lock and saves
no snapshot, exit 130), and its whole process group SIGKILL after `grace` seconds (4 s by
default: inside the daemon's 5 s shutdown grace). A command started after the event was set is
stopped the same way at once. The caller sees the signal's exit code (130, or -2/-9) and
decides, with `cancel.is_set()`, that the run was interrupted. (Windows has no SIGINT for a
child process: it is terminated at once.)
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping

from collectors.system.runner import SubprocessRunner, _kill_group, exited_within

POLL = 0.2  # seconds between looks at the cancel event (a command's exit is seen at once)


class CancellableRunner(SubprocessRunner):
    """A subprocess runner whose commands are interrupted, then killed, when `cancel` is set."""

    def __init__(
        self,
        cancel: threading.Event,
        *,
        grace: float = 4.0,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(base_env)
        self.cancel = cancel
        self.grace = grace

    def _wait(self, proc: subprocess.Popen[bytes], timeout: float) -> bool:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                _kill_group(proc)
                proc.wait()
                return True
            if self.cancel.is_set():
                interrupt(proc, self.grace)
                return False
            if exited_within(proc, min(left, POLL)):  # woken at the exit itself, not at the next look
                return False


def interrupt(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGINT to the command; SIGKILL to its process group if still running after `grace`."""
    with contextlib.suppress(ProcessLookupError):
        if sys.platform == "win32":  # pragma: no cover - Popen.send_signal has no SIGINT there
            proc.terminate()
        else:
            proc.send_signal(signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    _kill_group(proc)  # also whatever the command left behind in its group
    proc.wait()
