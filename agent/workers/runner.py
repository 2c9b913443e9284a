"""The daemon's side of a worker: start it, serve it, and end it.

`WorkerAction(job, "module:function", memory_max_bytes)` is a JobAction: the scheduler runs it
in its thread as it runs any action. It starts `python -m agent.workers.child` (a fresh
interpreter on every platform: nothing depends on fork), sends the `WorkerSpec` on the child's
stdin and serves the child until it ends:

- a state write is applied to the daemon's State at once and answered (agent.workers.proxy);
- `request_run` is passed to the scheduler (BAK-6: a UPS on battery starts the backup);
- log records are logged again here, through the daemon's handlers;
- at the job's timeout the worker is killed: terminated, then killed after `KILL_GRACE`, and
  every process it started with it (a restic in a session of its own included); at a cancel
  before the timeout (the daemon stops) it is asked to stop first and killed after
  `CANCEL_GRACE`;
- a worker that dies (a segfault, the memory cap, a kill from outside) is an error naming the
  exit code or signal. The daemon goes on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO, cast

from agent.actions.base import JobContext, JobOutcome
from agent.workers.proxy import WRITES
from agent.workers.wire import Channel, WorkerSpec
from collectors.system.piped_process import (
    KILL_GRACE,
    Piped,
    describe_exit,
    kill_tree,
    start_piped,
    wait_exit,
)
from common.frozen import frozen

log = logging.getLogger(__name__)

CANCEL_GRACE = 3.0  # seconds a cancelled worker gets to stop by itself (< daemon.SHUTDOWN_GRACE)
CALLS = WRITES | {"request_run"}
_ROOT = str(Path(__file__).resolve().parents[2])  # the directory that holds the `agent` package


@frozen
class WorkerFigures:
    """What one worker cost: ms from start until its job began, its resident memory then and
    at its peak (bytes; 0 when unknown)."""

    start_ms: float
    start_rss: int
    peak_rss: int


def python_executable() -> str:
    """The python to start workers with. Under the Windows service the interpreter is
    pythonservice.exe, which cannot run `-m`: its python.exe sits beside it."""
    exe = Path(sys.executable)
    if exe.name.lower() == "pythonservice.exe":
        beside = exe.with_name("python.exe")
        if beside.exists():
            return str(beside)
        return str(Path(sys.exec_prefix) / "python.exe")
    return str(exe)


def _secret_names(config: Any) -> set[str]:
    from agent.secret_files import secret_sources

    return {where for kind, where in secret_sources(config) if kind == "env"}


def child_environment(secret_names: set[str]) -> dict[str, str]:
    """The environment of a child of the daemon (a worker, a config check): without the secrets
    named in `secret_names`, able to import the agent from where this one runs."""
    env = {k: v for k, v in os.environ.items() if k not in secret_names}
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = _ROOT + (os.pathsep + path if path else "")
    env.setdefault("MALLOC_ARENA_MAX", "2")  # glibc: few arenas, so the address-space cap measures use
    env["PYTHONIOENCODING"] = "utf-8"
    return env


class WorkerAction:
    """Run the job `reference` ("module:function") in a worker process."""

    def __init__(self, job: str, reference: str, memory_max_bytes: int) -> None:
        self.job = job
        self.reference = reference
        self.memory_max_bytes = memory_max_bytes

    def __repr__(self) -> str:
        return f"WorkerAction({self.job!r}, {self.reference!r})"

    def __call__(self, ctx: JobContext) -> JobOutcome:
        return Worker(self, ctx).run()


class Worker:
    """One run of a WorkerAction."""

    def __init__(self, action: WorkerAction, ctx: JobContext) -> None:
        self.action = action
        self.ctx = ctx
        self.killed_why = ""
        self.outcome: JobOutcome | None = None
        self.figures: WorkerFigures | None = None
        self._ended = threading.Event()
        self._timeout = ctx.remaining()  # the job's timeout, give or take the start of the run

    def run(self) -> JobOutcome:
        ctx, action = self.ctx, self.action
        secret_names = _secret_names(ctx.config)
        spec = WorkerSpec(
            job=action.job,
            action=action.reference,
            config=ctx.config,
            state_dir=str(ctx.state_dir),
            max_runs_per_job=ctx.config.history.job_runs_per_job,
            remaining=ctx.remaining(),
            log_level=logging.getLogger("agent").getEffectiveLevel(),
            memory_max_bytes=action.memory_max_bytes,
            secret_env={name: os.environ[name] for name in secret_names if name in os.environ},
        )
        started = time.monotonic()
        argv = [python_executable(), "-m", "agent.workers.child"]
        proc = start_piped(argv, child_environment(secret_names))
        assert proc.stdin is not None and proc.stdout is not None
        to_child, from_child = Channel(cast(BinaryIO, proc.stdin)), Channel(cast(BinaryIO, proc.stdout))
        watcher = threading.Thread(
            target=self._watch, args=(proc, to_child), name=f"watch-{action.job}", daemon=True
        )
        try:
            to_child.send(spec)
            watcher.start()
            self._serve(from_child, to_child, started)
        except (OSError, EOFError, ValueError):  # the worker is gone: its exit code says why
            pass
        except Exception as exc:  # a message that cannot be read: the worker is ended below
            log.error("job %s: cannot read its worker's messages: %s", action.job, exc)
            self.killed_why = f"the worker's messages could not be read: {type(exc).__name__}: {exc}"
            kill_tree(proc)
        finally:
            code = self._reap(proc)
            self._ended.set()
            to_child.close()
            from_child.close()
        if self.figures is not None:
            figures = self.figures
            log.info(
                "job %s worker: started in %.0f ms at %.1f MiB, peak %.1f MiB",
                action.job, figures.start_ms, figures.start_rss / 2**20, figures.peak_rss / 2**20,
            )  # fmt: skip
        if self.outcome is not None:
            return self.outcome
        if self.killed_why:
            return JobOutcome(False, self.killed_why)
        if code == 0:
            return JobOutcome(False, "the worker process ended without a result (exit code 0)")
        return JobOutcome(False, f"the worker process died: {describe_exit(code)}")

    def _serve(self, from_child: Channel, to_child: Channel, started: float) -> None:
        start_ms, start_rss = 0.0, 0
        while True:
            message = from_child.receive()
            kind = message[0]
            if kind == "call":
                _, number, method, args, kwargs = message
                to_child.send(("reply", number, *self._call(method, args, kwargs)))
            elif kind == "log":
                _, name, level, text = message
                logging.getLogger(name).log(level, "%s", text)
            elif kind == "ready":
                start_ms, start_rss = (time.monotonic() - started) * 1000.0, int(message[1])
            elif kind == "done":
                self.outcome = message[1] if isinstance(message[1], JobOutcome) else None
                self.figures = WorkerFigures(start_ms, start_rss, int(message[2]))

    def _call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
        if method not in CALLS:
            return False, RuntimeError(f"a worker may not call {method!r}")
        try:
            if method == "request_run":
                request = self.ctx.request_run
                return True, ("unknown" if request is None else request(*args))
            return True, getattr(self.ctx.state, method)(*args, **kwargs)
        except Exception as exc:  # StateError (a full disk): raised again in the worker
            return False, exc

    def _watch(self, proc: Piped, to_child: Channel) -> None:
        """Thread: kill the worker at the timeout; on a cancel, ask first, kill after a grace."""
        ctx = self.ctx
        asked_at: float | None = None
        while not self._ended.is_set():
            remaining = ctx.remaining()
            if remaining <= 0.0:
                self.killed_why = f"killed at its {self._timeout:.0f} s timeout"
                break
            if ctx.cancel.is_set():
                if asked_at is None:
                    asked_at = time.monotonic()
                    with contextlib.suppress(OSError, ValueError):
                        to_child.send(("cancel",))
                elif time.monotonic() - asked_at >= CANCEL_GRACE:
                    self.killed_why = f"killed: cancelled and still running after {CANCEL_GRACE:.0f} s"
                    break
            self._ended.wait(min(0.2, remaining))
        else:
            return
        if proc.poll() is None:
            log.warning("job %s: %s", self.action.job, self.killed_why)
            kill_tree(proc)

    def _reap(self, proc: Piped) -> int:
        code = wait_exit(proc, CANCEL_GRACE + KILL_GRACE + 1.0)
        if code is None:
            kill_tree(proc)
            code = proc.wait()
        return code
