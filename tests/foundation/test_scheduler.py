"""The scheduler with clocks the test moves: cadence, jitter, time of day, jumps, suspends,
overlap, timeouts and exceptions. Worker threads are real; only time is driven."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.actions.base import JobContext, JobOutcome
from agent.config import Config
from agent.scheduler import ScheduledJob, Scheduler
from agent.state import State
from common.schema import Duration
from common.schema.common import Schedule

HOUR = 3600.0


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class Action:
    """Counts calls, tracks how many run at once, can block until released or raise."""

    def __init__(self, *, block: bool = False, raises: Exception | None = None) -> None:
        self.calls = 0
        self.running = 0
        self.most_at_once = 0
        self.block = block
        self.raises = raises
        self.release = threading.Event()
        self.saw_cancel = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, ctx: JobContext) -> JobOutcome:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.block:
                while not self.release.wait(0.01):
                    if ctx.cancel.is_set():
                        self.saw_cancel.set()
            if self.raises is not None:
                raise self.raises
            return JobOutcome(True)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    st = State.open(tmp_path / "state")
    yield st
    st.close()


def every(seconds: float, **kw: float) -> Schedule:
    return Schedule(every=Duration(seconds), **{k: Duration(v) for k, v in kw.items()})


def daily(at: str, **kw: float) -> Schedule:
    return Schedule(at=at, **{k: Duration(v) for k, v in kw.items()})


def make(state: State, clocks: object, *jobs: ScheduledJob, seed: int = 1) -> Scheduler:
    return Scheduler(
        jobs, config=Config(), state=state, state_dir=state.path.parent,
        clocks=clocks.clocks(), rng=random.Random(seed),  # type: ignore[attr-defined]
    )


def tick(scheduler: Scheduler, *actions: Action) -> None:
    """One tick, then wait (really) until every run it started has ended and been recorded."""
    scheduler.tick()
    assert scheduler.wait_idle(10)


def test_an_interval_job_runs_once_per_interval_on_the_monotonic_clock(state, fake_clocks) -> None:
    action = Action()
    s = make(state, fake_clocks, ScheduledJob("collect", every(60), action))
    tick(s, action)
    assert action.calls == 1
    fake_clocks.advance(59)
    tick(s, action)
    assert action.calls == 1
    fake_clocks.advance(1)
    tick(s, action)
    assert action.calls == 2
    assert [r.success for r in state.runs("collect")] == [True, True]


def test_jitter_delays_each_run_within_its_bounds_without_drifting_the_cadence(state, fake_clocks) -> None:
    action = Action()
    start = fake_clocks.mono
    s = make(state, fake_clocks, ScheduledJob("audit", every(60, jitter=10), action))
    delays = []
    for k in range(40):
        due = s.next_due("audit")
        base = start + 60 * k
        delays.append(due - base)
        fake_clocks.mono = due
        tick(s, action)
        assert action.calls == k + 1
    assert all(0 <= d <= 10 for d in delays)
    assert max(delays) > 5 and min(delays) < 5  # really spread, not a constant offset


def test_an_interval_job_that_succeeded_recently_waits_for_the_rest_of_its_interval(
    state, fake_clocks
) -> None:
    state.record_run("collect", fake_clocks.wall - 21, 1.0, True)  # ended 20 s ago
    state.record_run("audit", fake_clocks.wall - 101, 1.0, True)  # ended 100 s ago
    s = make(state, fake_clocks, ScheduledJob("collect", every(60), Action()),
             ScheduledJob("audit", every(60), Action()))
    assert s.next_due("collect") == pytest.approx(fake_clocks.mono + 40)
    assert s.next_due("audit") == pytest.approx(fake_clocks.mono)


def test_an_at_job_aims_at_the_next_local_occurrence_when_todays_already_ran(state, fake_clocks) -> None:
    fake_clocks.wall = utc("2026-11-23T10:00:00")
    state.record_run("backup", utc("2026-11-23T02:30:00"), 60.0, True)
    s = make(state, fake_clocks, ScheduledJob("backup", daily("02:30"), Action()))
    assert s.next_due("backup") - fake_clocks.mono == pytest.approx(16.5 * HOUR)
    assert not s.due_once("backup")


def test_an_at_job_that_missed_todays_occurrence_is_due_now_once(state, fake_clocks) -> None:
    fake_clocks.wall = utc("2026-11-23T10:00:00")
    state.record_run("backup", utc("2026-11-22T02:30:00"), 60.0, True)  # yesterday's
    action = Action()
    s = make(state, fake_clocks, ScheduledJob("backup", daily("02:30"), action))
    assert s.due_once("backup")
    assert s.next_due("backup") == pytest.approx(fake_clocks.mono)
    for _ in range(5):
        tick(s, action)
        fake_clocks.advance(60)
    assert action.calls == 1
    assert s.next_due("backup") - fake_clocks.mono == pytest.approx(16.5 * HOUR - 5 * 60)


def test_a_wall_clock_jump_forward_of_two_hours_runs_each_job_at_most_once(state, fake_clocks) -> None:
    fake_clocks.wall = utc("2026-11-23T10:00:00")
    state.record_run("backup", utc("2026-11-23T09:00:00"), 1.0, True)
    backup, collect = Action(), Action()
    s = make(state, fake_clocks, ScheduledJob("backup", daily("11:00"), backup),
             ScheduledJob("collect", every(300), collect))
    tick(s, backup, collect)
    assert (backup.calls, collect.calls) == (0, 1)
    fake_clocks.advance(1, wall=2 * HOUR)  # NTP or an operator moves the clock to 12:00
    for _ in range(10):
        tick(s, backup, collect)
        fake_clocks.advance(1)
    assert (backup.calls, collect.calls) == (1, 1)  # the skipped 11:00 ran once, no burst


def test_a_wall_clock_jump_back_of_two_hours_does_not_rerun_todays_at_job(state, fake_clocks) -> None:
    fake_clocks.wall = utc("2026-11-23T10:59:00")
    state.record_run("backup", utc("2026-11-22T11:00:00"), 60.0, True)
    backup = Action()
    s = make(state, fake_clocks, ScheduledJob("backup", daily("11:00"), backup))
    fake_clocks.advance(59)
    tick(s, backup)
    assert backup.calls == 0
    fake_clocks.advance(1)
    tick(s, backup)
    assert backup.calls == 1
    fake_clocks.advance(1, wall=-2 * HOUR)  # back to 09:00: 11:00 comes round again today
    for _ in range(30):
        fake_clocks.advance(300)  # 2.5 hours of ticks
        tick(s, backup)
    assert backup.calls == 1
    fake_clocks.advance(24 * HOUR)  # 11:30 tomorrow: tomorrow's 11:00 still runs
    tick(s, backup)
    assert backup.calls == 2


@pytest.mark.parametrize("monotonic_during_sleep", [0.0, 600.0], ids=["linux-monotonic", "boottime"])
def test_a_ten_minute_suspend_causes_at_most_one_run_per_job(
    state, fake_clocks, monotonic_during_sleep: float
) -> None:
    fake_clocks.wall = utc("2026-11-23T10:58:00")
    state.record_run("backup", utc("2026-11-22T11:00:00"), 60.0, True)
    collect, backup = Action(), Action()
    s = make(state, fake_clocks, ScheduledJob("collect", every(15), collect),
             ScheduledJob("backup", daily("11:00"), backup))
    tick(s, collect, backup)
    assert (collect.calls, backup.calls) == (1, 0)
    fake_clocks.advance(monotonic_during_sleep, wall=600)  # asleep from 10:58 to 11:08
    for _ in range(14):
        tick(s, collect, backup)
        fake_clocks.advance(1)
    assert backup.calls == 1  # 11:00 passed while asleep: run once
    assert collect.calls <= 2  # at most one run after waking, whatever the clock did
    fake_clocks.advance(15)
    tick(s, collect, backup)
    # then the cadence resumes: one more run 15 s later (the boottime case had its catch-up run)
    assert collect.calls == (3 if monotonic_during_sleep else 2)


def test_a_long_running_job_is_never_started_twice(state, fake_clocks, caplog) -> None:
    slow = Action(block=True)
    s = make(state, fake_clocks, ScheduledJob("backup", every(1, timeout=3600), slow))
    caplog.set_level(logging.WARNING, logger="agent.scheduler")
    s.tick()
    for _ in range(5):
        fake_clocks.advance(1)
        s.tick()
        threading.Event().wait(0.02)
    assert (slow.calls, slow.most_at_once) == (1, 1)
    assert sum("still running" in r.getMessage() for r in caplog.records) == 5
    slow.release.set()
    assert s.wait_idle(10)
    fake_clocks.advance(1)
    tick(s, slow)
    assert slow.calls == 2  # not queued: one new run, not the five skipped ones


def test_a_run_past_its_timeout_is_recorded_failed_and_blocks_the_job_until_it_ends(
    state, fake_clocks
) -> None:
    slow = Action(block=True)
    s = make(state, fake_clocks, ScheduledJob("backup", every(10, timeout=5), slow))
    s.tick()
    fake_clocks.advance(4.9)
    s.tick()
    assert state.runs("backup") == []
    fake_clocks.advance(0.2)
    s.tick()
    [run] = state.runs("backup")
    assert (run.success, run.error) == (False, "timed out after 5s")
    assert slow.saw_cancel.wait(2)
    fake_clocks.advance(10)
    s.tick()
    assert slow.calls == 1  # still blocked: the thread has not ended
    slow.release.set()
    assert s.wait_idle(10)
    assert len(state.runs("backup")) == 1  # the late end is not recorded a second time
    fake_clocks.advance(300)  # past the watchdog's cool-down (limits.cooldown, 5m)
    tick(s, slow)
    assert slow.calls == 2


def test_an_exception_is_recorded_as_a_failure_with_its_type_and_message(state, fake_clocks) -> None:
    broken = Action(raises=ValueError("disk on fire"))
    s = make(state, fake_clocks, ScheduledJob("audit", every(60), broken))
    tick(s, broken)
    [run] = state.runs("audit")
    assert (run.success, run.error) == (False, "ValueError: disk on fire")


def test_run_due_once_runs_interval_jobs_and_only_at_jobs_whose_occurrence_is_missed(
    state, fake_clocks
) -> None:
    fake_clocks.wall = utc("2026-11-23T10:00:00")
    state.record_run("collect", fake_clocks.wall - 5, 1.0, True)  # recent, but --once runs it anyway
    state.record_run("backup", utc("2026-11-23T02:31:00"), 60.0, True)  # today's 02:30 done
    state.record_run("drill", utc("2026-11-22T03:00:00"), 60.0, True)  # today's 03:00 missed
    collect, backup, drill = Action(), Action(), Action(raises=RuntimeError("no sample"))
    s = make(state, fake_clocks, ScheduledJob("collect", every(60), collect),
             ScheduledJob("backup", daily("02:30"), backup), ScheduledJob("drill", daily("03:00"), drill))
    results = {r.job: r for r in s.run_due_once()}
    assert sorted(results) == ["collect", "drill"]
    assert results["collect"].success and not results["drill"].success
    assert results["drill"].error == "RuntimeError: no sample"
    assert backup.calls == 0


def test_a_registered_secret_in_an_error_is_masked_before_it_is_stored(state, fake_clocks) -> None:
    from agent.logs import register_secret

    register_secret("repo-pass-in-an-error-0042")
    leaky = Action(raises=PermissionError("restic: wrong password repo-pass-in-an-error-0042"))
    plain = Action(raises=PermissionError("restic: wrong password something-else"))
    s = make(state, fake_clocks, ScheduledJob("backup", every(60), leaky),
             ScheduledJob("audit", every(60), plain))
    tick(s, leaky, plain)
    assert state.runs("backup")[0].error == "PermissionError: restic: wrong password ***"
    assert state.runs("audit")[0].error == "PermissionError: restic: wrong password something-else"


def test_run_now_starts_a_job_out_of_cadence_once_and_keeps_its_schedule(state, fake_clocks) -> None:
    fake_clocks.wall = utc("2026-11-23T15:00:00")
    state.record_run("backup", utc("2026-11-23T02:31:00"), 60.0, True)  # today's 02:30 done
    backup = Action(block=True)
    s = make(state, fake_clocks, ScheduledJob("backup", daily("02:30"), backup))
    s.tick()
    assert backup.calls == 0
    assert s.run_now("backup") == "started"
    assert s.run_now("backup") == "busy"  # never two runs of one job at once
    assert s.run_now("drill") == "unknown"
    backup.release.set()
    assert s.wait_idle(10)
    assert (backup.calls, backup.most_at_once) == (1, 1)
    assert [r.success for r in state.runs("backup")] == [True, True]
    fake_clocks.advance(HOUR)
    tick(s, backup)
    assert backup.calls == 1  # tonight's 02:30 is still the next planned run


def test_a_job_may_request_another_and_run_due_once_waits_for_it(state, fake_clocks) -> None:
    backup = Action()

    def devices(ctx: JobContext) -> JobOutcome:
        assert ctx.request_run is not None
        return JobOutcome(ctx.request_run("backup") == "started")

    fake_clocks.wall = utc("2026-11-23T15:00:00")
    state.record_run("backup", utc("2026-11-23T02:31:00"), 60.0, True)
    s = make(state, fake_clocks, ScheduledJob("devices", every(60), devices),
             ScheduledJob("backup", daily("02:30"), backup))
    results = {r.job: r.success for r in s.run_due_once()}
    assert results == {"devices": True, "backup": True}
    assert backup.calls == 1
