"""The contract between the scheduler and the actions it runs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from agent.config.schema import Config
from agent.state import State
from common.frozen import frozen


@frozen
class JobContext:
    """Everything an action may use. `deadline` is on the monotonic clock."""

    config: Config
    state: State
    state_dir: Path
    deadline: float
    cancel: threading.Event
    log: logging.Logger
    # Ask the scheduler to start another job now (BAK-6: a UPS on battery starts the backup).
    # Returns "started", "busy" or "unknown"; None outside a scheduler.
    request_run: Callable[[str], str] | None = None

    def remaining(self) -> float:
        """Seconds left before the job's timeout (never negative)."""
        return max(0.0, self.deadline - time.monotonic())


@frozen
class JobOutcome:
    """How a run ended. An action may also raise; the scheduler records that as a failure."""

    success: bool
    error: str = ""
    partial: bool = False  # some work done, some not (e.g. restic exit 3): never green


JobAction = Callable[[JobContext], JobOutcome]


def run_action(action: JobAction, ctx: JobContext, log: logging.Logger) -> JobOutcome:
    """Call `action`; an exception or a wrong return value is a failed outcome, never raised
    (the scheduler's thread and a worker process both run actions through this)."""
    try:
        returned: object = action(ctx)
    except Exception as exc:
        log.debug("the action raised", exc_info=True)
        message = str(exc)
        return JobOutcome(False, f"{type(exc).__name__}: {message}" if message else type(exc).__name__)
    if isinstance(returned, JobOutcome):
        return returned
    return JobOutcome(False, f"action returned {type(returned).__name__}, not JobOutcome")
