"""The worker: `python -m agent.workers.child`, one job, then exit.

stdin carries frames from the daemon (the `WorkerSpec`, then answers and "cancel"); the
original stdout carries frames to it. fd 1 is pointed at stderr first, so that a stray print
cannot corrupt the frames. Messages to the daemon:

  ("ready", start_rss)                        the job's module is imported, the run begins
  ("call", n, method, args, kwargs)           a state write or "request_run"; answered ("reply", n, ok, value)
  ("log", logger, level, text)                a log record, logged again by the daemon
  ("done", outcome, peak_rss)                 the JobOutcome

The memory cap is set before the job's module is imported. When the daemon goes away (stdin
closes) the job is cancelled and the worker exits soon after, whatever the job does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from agent.workers.memory import apply_cap, peak_bytes, resident_bytes
from agent.workers.wire import Channel, WorkerSpec
from common.refs import resolve

ORPHAN_GRACE = 5.0  # seconds a worker outlives its daemon, for the job to notice the cancel


class Link:
    """The worker's side of the pipes: calls that wait for their answer, a cancel event."""

    def __init__(self, incoming: Channel, outgoing: Channel) -> None:
        self.incoming = incoming
        self.outgoing = outgoing
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._next = 0
        self._waiting: dict[int, tuple[threading.Event, list[Any]]] = {}

    def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        with self._lock:
            self._next += 1
            number = self._next
            done: tuple[threading.Event, list[Any]] = (threading.Event(), [])
            self._waiting[number] = done
        self.outgoing.send(("call", number, method, args, kwargs))
        done[0].wait()
        ok, value = done[1]
        if not ok:
            raise value if isinstance(value, BaseException) else RuntimeError(str(value))
        return value

    def request_run(self, job: str) -> str:
        return str(self.call("request_run", (job,), {}))

    def listen(self) -> None:
        """Thread: answers and "cancel" from the daemon, until its end of the pipe closes."""
        try:
            while True:
                message = self.incoming.receive()
                if message[0] == "reply":
                    _, number, ok, value = message
                    with self._lock:
                        waiting = self._waiting.pop(number, None)
                    if waiting is not None:
                        waiting[1].extend((ok, value))
                        waiting[0].set()
                elif message[0] == "cancel":
                    self.cancel.set()
        except Exception:  # EOFError: the daemon is gone (or sent garbage): stop the job, then us
            self.cancel.set()
            with self._lock:
                for event, slot in self._waiting.values():
                    slot.extend((False, RuntimeError("the daemon went away")))
                    event.set()
            timer = threading.Timer(ORPHAN_GRACE, os._exit, args=(3,))
            timer.daemon = True
            timer.start()


class Forward(logging.Handler):
    """Sends each record to the daemon, which logs it with its own handlers (and redaction)."""

    def __init__(self, outgoing: Channel) -> None:
        super().__init__()
        self._outgoing = outgoing
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._outgoing.send(("log", record.name, record.levelno, self.format(record)))
        except Exception:
            self.handleError(record)


def serve(spec: WorkerSpec, link: Link) -> None:
    from agent import faults
    from agent.actions.base import JobContext, JobOutcome, run_action
    from agent.secret_files import register_config_secrets
    from agent.workers.proxy import WorkerState

    os.environ.update(spec.secret_env)  # not in the environment block the worker was started with
    root = logging.getLogger()
    root.handlers[:] = [Forward(link.outgoing)]
    root.setLevel(spec.log_level)
    faults.record_to(Path(spec.state_dir))  # the daemon adds these to its own /metrics
    register_config_secrets(spec.config)
    log = logging.getLogger(f"agent.scheduler.{spec.job}")
    state = WorkerState.open_reader(Path(spec.state_dir), spec.max_runs_per_job, link.call)
    action = resolve(spec.action)
    link.outgoing.send(("ready", resident_bytes()))
    ctx = JobContext(
        config=spec.config,
        state=state,
        state_dir=Path(spec.state_dir),
        deadline=time.monotonic() + spec.remaining,
        cancel=link.cancel,
        log=log,
        request_run=link.request_run,
    )
    if link.cancel.is_set():  # the daemon is stopping: the job is not begun
        outcome = JobOutcome(False, "cancelled before it started")
    else:
        outcome = run_action(action, ctx, log)
    if outcome.error.startswith("MemoryError") and spec.memory_max_bytes:
        cap = f"the worker's memory cap is {spec.memory_max_bytes / 2**20:.0f} MiB"
        outcome = dataclasses.replace(outcome, error=f"{outcome.error} ({cap})")
    link.outgoing.send(("done", outcome, peak_bytes()))


def main() -> None:
    incoming = Channel(sys.stdin.buffer)
    outgoing = Channel(os.fdopen(os.dup(sys.stdout.fileno()), "wb"))
    if sys.stderr is None:  # started without a standard error handle
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the life of the worker
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    spec = incoming.receive()
    assert isinstance(spec, WorkerSpec)
    link = Link(incoming, outgoing)
    problem = apply_cap(spec.memory_max_bytes)
    threading.Thread(target=link.listen, name="worker-link", daemon=True).start()
    try:
        if problem:
            link.outgoing.send(("log", "agent.workers", logging.WARNING, f"job {spec.job}: {problem}"))
        serve(spec, link)
    except BaseException as exc:  # before the action ran (import, state): the job's error
        from agent.actions.base import JobOutcome

        outcome = JobOutcome(False, f"the worker could not start the job: {type(exc).__name__}: {exc}")
        with contextlib.suppress(Exception):
            link.outgoing.send(("done", outcome, peak_bytes()))
    # os._exit: threads the job left behind must not keep the worker alive.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
