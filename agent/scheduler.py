"""The scheduler: decides *when* named jobs run; the actions decide *what* they do.

Guarantees (each one has a test in tests/foundation/test_scheduler.py):
- never two runs of one job at once: a job still running when due is skipped and logged;
- no burst after a suspend or a wall-clock jump: only the next occurrence is ever scheduled,
  so a job that missed many runs runs once and then resumes its cadence;
- `every` counts on the monotonic clock; `at: "HH:MM"` aims at local wall time and is re-aimed
  whenever the wall clock jumps relative to the monotonic one;
- on start, an interval job that succeeded less than one interval ago waits for the rest, and a
  time-of-day job is not re-run for an occurrence it has already run; one whose latest
  occurrence passed without a success (the machine was off, or it never ran) runs once now;
- each run happens in its own thread with a `JobContext` (deadline, cancel event); a run
  past its timeout is recorded failed at once, and the job stays blocked until its thread ends;
  a job `in_worker` runs in a worker process (agent.workers) that is killed at the timeout,
  so it is recorded "killed at its N s timeout" (tests/foundation/test_workers.py);
- an exception from an action is a failed run with `TypeName: message` (traceback at debug);
- watchdog: a run stopped at its timeout sets the job aside for `limits.cooldown`, doubling
  with each timeout in a row; a success clears it; it survives a restart (the rules and the
  record: agent/watchdog; tests in tests/reliability/test_b_watchdog.py);
- an `at` job's last success stamped more than a day in the future (the clock ran ahead, then
  was set back) is stale: logged and journaled once, and the job runs at its next slot instead
  of waiting for the clock to catch up (tests/reliability/test_c_clock.py);
- a run whose record cannot be written (a full disk) is a failed run: "the state could not be
  written" (tests/reliability/test_c_state.py).

Clocks are passed in (`agent.timing.Clocks`) so tests move time without sleeping.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from agent.actions.base import JobAction, JobContext, JobOutcome, run_action
from agent.config.schema import Config
from agent.logs import redact
from agent.scheduler_plan import Entry, Run, RunResult, ScheduledJob
from agent.state import State
from agent.timing import Clocks, latest_occurrence, next_occurrence
from agent.watchdog import SetAsides
from collectors.clock import is_future
from collectors.system import heap
from common.errors import HostwardError
from common.schema.common import Schedule
from common.schema.fields import format_duration

__all__ = ["RunResult", "ScheduledJob", "Scheduler"]
log = logging.getLogger(__name__)

WALL_JUMP = 2.0  # seconds the two clocks may drift apart between ticks before it counts as a jump
MAX_SLEEP = 1.0  # the run loop looks at the clocks at least this often (jumps, timeouts, signals)
# An `at` job's last run stamped up to a day ahead is the same day's slot seen again after a
# clock set back (never run twice); beyond a day the stamp is stale (the clock ran ahead).
AT_FUTURE_TOLERANCE = 86400.0


class Scheduler:
    """Runs `ScheduledJob`s. Drive it with `run(stop)` (daemon), `tick()` (tests) or `run_due_once()`."""

    def __init__(
        self,
        jobs: Iterable[ScheduledJob],
        *,
        config: Config,
        state: State,
        state_dir: Path,
        clocks: Clocks | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._state = state
        self._state_dir = state_dir
        self._clocks = clocks or Clocks()
        self._rng = rng or random.Random()  # noqa: S311 - jitter spreads a fleet, it is no secret
        self._lock = threading.RLock()
        self._finished = threading.Event()  # set whenever a worker ends, to wake `run_due_once`
        self._entries: dict[str, Entry] = {}
        self._retired: list[Run] = []  # runs of jobs removed by a reload, still waited for at shutdown
        self._offset = self._clocks.wall() - self._clocks.monotonic()
        self._aside = SetAsides(state, "job", config.limits, self._clocks)  # the watchdog's
        self._future_noted: set[str] = set()  # jobs whose future last success was reported
        self.update(jobs, config)

    # -- planning ----------------------------------------------------------------------------

    def update(self, jobs: Iterable[ScheduledJob], config: Config) -> None:
        """Take a new job list (after a reload). Unchanged schedules keep their timing."""
        with self._lock:
            self._config = config
            self._aside.limits = config.limits
            now_mono, now_wall = self._clocks.monotonic(), self._clocks.wall()
            old = self._entries
            new: dict[str, Entry] = {}
            for job in jobs:
                previous = old.pop(job.name, None)
                if previous is not None and previous.job.schedule == job.schedule:
                    previous.job = job
                    new[job.name] = previous
                    continue
                entry = Entry(job)
                if previous is not None:
                    entry.run, entry.done_wall = previous.run, previous.done_wall
                self._plan_first(entry, now_mono, now_wall)
                new[job.name] = entry
            self._retired.extend(e.run for e in old.values() if e.busy and e.run is not None)
            self._entries = new

    def next_due(self, name: str) -> float:
        """Monotonic time the job `name` is next due (for tests and the status page)."""
        with self._lock:
            return self._entries[name].due

    def _last_success(self, name: str) -> float | None:
        try:
            status = self._state.snapshot().jobs.get(name)
        except (HostwardError, sqlite3.Error) as exc:  # unreadable history: plan as if none
            log.error("cannot read the last run of job %s: %s", name, exc)
            return None
        return None if status is None else status.last_success

    def _draw_jitter(self, schedule: Schedule) -> float:
        return self._rng.uniform(0.0, float(schedule.jitter)) if schedule.jitter > 0 else 0.0

    def _plan_first(self, entry: Entry, now_mono: float, now_wall: float) -> None:
        schedule = entry.job.schedule
        last_ok = self._last_success(entry.job.name)
        entry.jitter = self._draw_jitter(schedule)
        if schedule.every is not None:
            interval = float(schedule.every)
            # A success less than one interval ago (or in the future: the clock went back) waits.
            wait = 0.0 if last_ok is None else min(interval, max(0.0, interval - (now_wall - last_ok)))
            entry.base = now_mono + wait
            entry.due = entry.base + entry.jitter
        else:
            if entry.done_wall is None:
                entry.done_wall = last_ok
            self._aim(entry, now_mono, now_wall)

    def _done(self, entry: Entry, now_wall: float) -> float | None:
        """When the `at` job last handled an occurrence; one stamped beyond the tolerance in the
        future is stale: taken as handled now (it runs at its next slot), reported once."""
        done = entry.done_wall
        if done is None or not is_future(done, now_wall, AT_FUTURE_TOLERANCE):
            return done
        name = entry.job.name
        if name not in self._future_noted:
            self._future_noted.add(name)
            stamped = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(done))
            log.warning(
                "job %s: its last run is stamped %s, %.0fs in the future (the clock was set back); "
                "taken as done now: it runs at its next slot", name, stamped, done - now_wall)
            self._journal("clock.future_timestamp", {"job": name, "stamped": done, "now": now_wall})
        return now_wall

    def _journal(self, kind: str, data: dict[str, object]) -> None:
        from agent.journal import Journal

        try:
            Journal(self._state_dir).append(kind, data)
        except HostwardError as exc:
            log.error("cannot write the journal: %s", exc)

    def _aim(self, entry: Entry, now_mono: float, now_wall: float) -> None:
        """Point an `at` job at its occurrence: the latest one if not yet handled, else the next."""
        hour_minute = entry.job.schedule.time_of_day()
        assert hour_minute is not None
        hour, minute = hour_minute
        tz = self._clocks.tz
        latest = latest_occurrence(now_wall, hour, minute, tz)
        done = self._done(entry, now_wall)
        if done is None or done < latest:
            entry.target = latest
            entry.due = now_mono + entry.jitter
        else:
            entry.target = next_occurrence(max(now_wall, done), hour, minute, tz)
            entry.due = now_mono + (entry.target - now_wall) + entry.jitter

    def _advance(self, entry: Entry, now_mono: float, now_wall: float) -> None:
        """Plan the next occurrence only: missed ones are never queued up."""
        schedule = entry.job.schedule
        entry.jitter = self._draw_jitter(schedule)
        if schedule.every is not None:
            interval = float(schedule.every)
            entry.base += interval
            if entry.base <= now_mono:  # overdue (suspend, long run): restart the cadence from now
                entry.base = now_mono + interval
            entry.due = entry.base + entry.jitter
        else:
            entry.done_wall = max(now_wall, entry.target or now_wall)
            self._aim(entry, now_mono, now_wall)

    def _notice_jump(self, now_mono: float, now_wall: float) -> None:
        offset = now_wall - now_mono
        moved = offset - self._offset
        self._offset = offset
        if abs(moved) <= WALL_JUMP:
            return
        log.info("wall clock moved %+.0fs against the monotonic clock; re-aiming time-of-day jobs", moved)
        for entry in self._entries.values():
            if entry.job.schedule.at is not None:
                self._aim(entry, now_mono, now_wall)

    # -- running -----------------------------------------------------------------------------

    def tick(self) -> float:
        """Start what is due, record timeouts; return seconds until the next job is due."""
        with self._lock:
            now_mono, now_wall = self._clocks.monotonic(), self._clocks.wall()
            self._notice_jump(now_mono, now_wall)
            self._check_timeouts(now_mono)
            for entry in self._entries.values():
                if now_mono >= entry.due:
                    if entry.busy:
                        assert entry.run is not None
                        log.warning(
                            "job %s is still running (for %.0fs); skipping this run",
                            entry.job.name,
                            now_mono - entry.run.started_mono,
                        )
                    elif (left := self._aside.remaining(entry.job.name)) > 0:
                        log.info(
                            "job %s is set aside by the watchdog for %.0fs more; skipping this run",
                            entry.job.name,
                            left,
                        )
                    else:
                        self._start(entry, now_mono, now_wall)
                    self._advance(entry, now_mono, now_wall)
            wake = [e.due for e in self._entries.values()]
            wake += [e.run.deadline for e in self._entries.values() if e.run and not e.run.recorded]
            return max(0.0, min(wake, default=now_mono + MAX_SLEEP) - now_mono)

    def run(self, stop: threading.Event, between: Callable[[], None] | None = None) -> None:
        """Tick until `stop` is set; `between()` is called before every tick (reloads)."""
        while not stop.is_set():
            try:
                if between is not None:
                    between()
                    if stop.is_set():
                        break
                delay = self.tick()
            except Exception:  # a daemon outlives a bad tick (no thread left, disk full...)
                log.exception("scheduler tick failed; trying again in %.0fs", MAX_SLEEP)
                delay = MAX_SLEEP
            self._clocks.wait(stop, min(delay, MAX_SLEEP))

    def run_now(self, name: str) -> str:
        """Start job `name` at once, outside its cadence (which is kept): "started", "busy"
        (a run is going: nothing to add) or "unknown" (not scheduled in this config)."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                return "unknown"
            if entry.busy:
                return "busy"
            log.info("job %s requested now", name)
            self._start(entry, self._clocks.monotonic(), self._clocks.wall())
            return "started"

    def due_once(self, name: str) -> bool:
        """Whether `--once` runs the job: interval jobs always; `at` jobs when the last
        success is older than their latest scheduled occurrence."""
        with self._lock:
            entry = self._entries[name]
            schedule = entry.job.schedule
            if self._aside.remaining(name) > 0:
                log.warning("job %s is set aside by the watchdog; not run", name)
                return False
        hour_minute = schedule.time_of_day()
        if hour_minute is None:
            return True
        last_ok, now_wall = self._last_success(name), self._clocks.wall()
        if is_future(last_ok, now_wall, AT_FUTURE_TOLERANCE):  # stale: taken as done now (see `_done`)
            log.warning("job %s: its last success is stamped in the future; taken as done now", name)
            last_ok = now_wall
        latest = latest_occurrence(now_wall, *hour_minute, self._clocks.tz)
        return last_ok is None or last_ok < latest

    def run_due_once(self) -> list[RunResult]:
        """Run every due job once, concurrently, and wait until each is recorded."""
        with self._lock:
            now_mono, now_wall = self._clocks.monotonic(), self._clocks.wall()
            before = {id(e.run) for e in self._entries.values() if e.run is not None}
            runs = [
                self._start(entry, now_mono, now_wall)
                for name, entry in self._entries.items()
                if self.due_once(name)
            ]
        while True:
            self._finished.clear()
            with self._lock:
                now = self._clocks.monotonic()
                self._check_timeouts(now)
                # runs a job requested with `run_now` are waited for too
                runs += [
                    e.run
                    for e in self._entries.values()
                    if e.run is not None and id(e.run) not in before and e.run not in runs
                ]
                pending = [r for r in runs if not r.recorded]
            if not pending:
                break
            self._clocks.wait(self._finished, min(MAX_SLEEP, min(r.deadline for r in pending) - now))
        return [r.result for r in runs if r.result is not None]

    def wait_idle(self, timeout: float) -> bool:
        """Wait (real time: runs are real threads) until every started run has ended and been
        recorded; False if some are still going after `timeout` seconds."""
        with self._lock:
            runs = [e.run for e in self._entries.values() if e.run is not None]
        end = time.monotonic() + timeout
        return all(run.finished.wait(max(0.0, end - time.monotonic())) for run in runs)

    def shutdown(self, grace: float) -> None:
        """Cancel running jobs, wait up to `grace` seconds, record the rest as abandoned."""
        with self._lock:
            runs = [e.run for e in self._entries.values() if e.busy and e.run is not None]
            runs += [r for r in self._retired if not r.finished.is_set()]
        for run in runs:
            run.cancel.set()
        end = self._clocks.monotonic() + grace
        for run in runs:
            self._clocks.wait(run.finished, end - self._clocks.monotonic())
        for run in runs:
            if not run.finished.is_set() and run.claim():
                took = self._clocks.monotonic() - run.started_mono
                self._record(run, took, False, f"abandoned at shutdown after {format_duration(round(took))}")

    def _start(self, entry: Entry, now_mono: float, now_wall: float) -> Run:
        job = entry.job
        run = Run(job.name, now_wall, now_mono, float(job.schedule.timeout))
        ctx = JobContext(
            config=self._config,
            state=self._state,
            state_dir=self._state_dir,
            deadline=run.deadline,
            cancel=run.cancel,
            log=log.getChild(job.name),
            request_run=self.run_now,
        )
        entry.run = run
        log.debug("job %s starting", job.name)
        thread = threading.Thread(
            target=self._work, args=(job.action, run, ctx), name=f"job-{job.name}", daemon=True
        )
        thread.start()
        return run

    def _work(self, action: JobAction, run: Run, ctx: JobContext) -> None:
        outcome = JobOutcome(False, "the run ended without an outcome")
        try:
            outcome = run_action(action, ctx, ctx.log)  # a buggy action must not kill the thread
        finally:
            took = self._clocks.monotonic() - run.started_mono
            if run.claim():
                success = outcome.success and not outcome.partial
                error = "" if success else (outcome.error or ("partial" if outcome.partial else "failed"))
                self._record(run, took, success, error)
            else:
                log.info("job %s ended after %.1fs, past its timeout", run.job, took)
            run.finished.set()
            self._finished.set()
            heap.release()  # what the run freed goes back to the system, not kept for later

    def _check_timeouts(self, now_mono: float) -> None:
        for entry in self._entries.values():
            run = entry.run
            if run is None or run.finished.is_set() or now_mono < run.deadline:
                continue
            if run.claim():
                run.cancel.set()
                error = (
                    f"killed at its {run.timeout:.0f} s timeout"
                    if entry.job.in_worker
                    else f"timed out after {format_duration(run.timeout)}"
                )
                self._aside.stopped(entry.job.name, error)
                self._record(run, now_mono - run.started_mono, False, error)

    def _record(self, run: Run, duration: float, success: bool, error: str) -> None:
        error = redact(error)
        if success:
            self._aside.succeeded(run.job)
            log.info("job %s ok in %.2fs", run.job, duration)
        else:
            log.warning("job %s failed after %.2fs: %s", run.job, duration, error)
        try:
            self._state.record_run(run.job, run.started_wall, duration, success, error)
        except HostwardError as exc:  # the run failed: what it did is not stored
            log.error("cannot record the run of job %s: %s", run.job, exc)
            success, error = False, redact(f"the state could not be written: {exc}")
        finally:
            # Only now: `run_due_once` returns (and the process may exit) once this is set, so
            # the run must already be in the database.
            run.result = RunResult(run.job, success, error, duration)
