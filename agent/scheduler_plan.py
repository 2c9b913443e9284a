"""What the scheduler plans and runs: a job as scheduled, one run in flight, one job's plan."""

from __future__ import annotations

import threading

from agent.actions.base import JobAction
from common.frozen import frozen
from common.schema.common import Schedule


@frozen
class ScheduledJob:
    """A job as the scheduler sees it: a name, an enabled schedule and an action."""

    name: str
    schedule: Schedule
    action: JobAction
    in_worker: bool = False  # runs in a worker process, killed at its timeout (agent.workers)


@frozen
class RunResult:
    """How one run ended, as recorded in the state."""

    job: str
    success: bool
    error: str
    duration: float


class Run:
    """One run in flight. Whoever claims it first (the worker or the timeout) records it."""

    def __init__(self, job: str, started_wall: float, started_mono: float, timeout: float) -> None:
        self.job = job
        self.started_wall = started_wall
        self.started_mono = started_mono
        self.deadline = started_mono + timeout
        self.timeout = timeout
        self.cancel = threading.Event()
        self.finished = threading.Event()  # the worker thread has returned
        self.result: RunResult | None = None
        self._claim = threading.Lock()
        self._claimed = False

    def claim(self) -> bool:
        with self._claim:
            first = not self._claimed
            self._claimed = True
            return first

    @property
    def recorded(self) -> bool:
        return self.result is not None


class Entry:
    """The plan of one job: when it is next due (monotonic) and what is running."""

    def __init__(self, job: ScheduledJob) -> None:
        self.job = job
        self.base = 0.0  # interval jobs: the unjittered due time (monotonic)
        self.due = 0.0  # monotonic time of the next run, jitter included
        self.jitter = 0.0
        self.target: float | None = None  # `at` jobs: wall time of the occurrence aimed at
        self.done_wall: float | None = None  # `at` jobs: wall time the last occurrence was handled
        self.run: Run | None = None

    @property
    def busy(self) -> bool:
        return self.run is not None and not self.run.finished.is_set()
