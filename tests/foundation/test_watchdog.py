"""The watchdog's rules (agent/watchdog) with clocks the test moves: each stop in a row doubles
the cool-down up to `cooldown_max`, a success starts over, a wall-clock jump neither stretches
nor ends a cool-down, and the set-asides of jobs and checks survive a restart (the state closed
and opened again) and show on /metrics and the status page. Worker threads are real."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.actions.base import JobContext, JobOutcome
from agent.config import Config
from agent.config.limits import LimitsConfig
from agent.exporter.families_watchdog import watchdog_families
from agent.scheduler import ScheduledJob, Scheduler
from agent.state import State
from agent.watchdog import SetAsides, load, note_audit
from agent.web.section_jobs import jobs_section
from common.schema import Duration
from common.schema.common import Schedule
from policies.result import CheckResult, Stopped

# Cool-downs of 100 s, 200 s, then 350 s (the cap: 400 s would be next), 350 s...
LIMITS = LimitsConfig(cooldown=Duration(100), cooldown_max=Duration(350))
CONFIG = replace(Config(), limits=LIMITS)
CHECK = "net.settings_unchanged"
FakeClocks = Any  # the `fake_clocks` fixture (tests/foundation/conftest.py): clocks moved by hand


class Hangs:
    """A job that runs until it is cancelled (stopped at its timeout), or succeeds when `fixed`."""

    def __init__(self) -> None:
        self.fixed = False

    def __call__(self, ctx: JobContext) -> JobOutcome:
        if self.fixed:
            return JobOutcome(True)
        ctx.cancel.wait(10)
        return JobOutcome(False, "cancelled")


def scheduler(state: State, clocks: FakeClocks, action: Hangs) -> Scheduler:
    job = ScheduledJob("sleeper", Schedule(every=Duration(10), timeout=Duration(5)), action)
    return Scheduler([job], config=CONFIG, state=state, state_dir=state.path.parent, clocks=clocks.clocks())


def run_for(
    s: Scheduler, state: State, clocks: FakeClocks, seconds: int, action: Hangs | None = None
) -> None:
    """Tick once a second; wait (really) for a run that ends by itself, or for the thread of
    one stopped at its timeout, before the clock moves on."""
    for _ in range(seconds):
        recorded = len(state.runs("sleeper"))
        s.tick()
        if len(state.runs("sleeper")) > recorded or (action is not None and action.fixed):
            assert s.wait_idle(10)
        clocks.advance(1)


def starts(state: State, clocks: FakeClocks, since: float) -> list[float]:
    return sorted(r.started - since for r in state.runs("sleeper"))


def check_result(stopped: Stopped) -> CheckResult:
    status = "pass" if stopped == "" else "error"
    return CheckResult(CHECK, status, ("NET-5",), "medium", {}, "", stopped=stopped)


def test_a_job_stopped_again_and_again_waits_twice_as_long_each_time_up_to_cooldown_max(
    tmp_path: Path, fake_clocks: FakeClocks
) -> None:
    state = State.open(tmp_path / "state")
    action = Hangs()
    s = scheduler(state, fake_clocks, action)
    t0 = fake_clocks.wall
    run_for(s, state, fake_clocks, 1100)
    # Stopped at 5 s each time; set aside 100, 200, 350, 350 s; then due on its 10 s grid.
    assert starts(state, fake_clocks, t0) == [0, 110, 320, 680, 1040]
    assert [r.error for r in state.runs("sleeper")] == ["timed out after 5s"] * 5
    aside = load(state, "job")["sleeper"]
    assert aside.strikes == 5 and aside.until == t0 + 1045 + 350

    # Fixed: the next run succeeds and clears it; a later stop starts over at 100 s.
    action.fixed = True
    run_for(s, state, fake_clocks, 400, action)  # up to t0 + 1500
    assert load(state, "job") == {}
    runs = starts(state, fake_clocks, t0)
    assert runs[5] == 1400 and runs[6:] == [1410, 1420, 1430, 1440, 1450, 1460, 1470, 1480, 1490]
    action.fixed = False
    run_for(s, state, fake_clocks, 10)
    again = load(state, "job")["sleeper"]
    assert (again.strikes, again.until) == (1, t0 + 1505 + 100)
    state.close()


def test_a_check_stopped_again_and_again_waits_twice_as_long_each_time_up_to_cooldown_max(
    tmp_path: Path, fake_clocks: FakeClocks
) -> None:
    state = State.open(tmp_path / "state")
    waits = []
    for stop in ("timeout", "memory", "timeout", "timeout"):
        checks = SetAsides(state, "check", LIMITS, fake_clocks.clocks())  # read afresh, as each audit does
        note_audit(checks, [check_result(stop)])
        entry = load(state, "check")[CHECK]
        waits.append(entry.until - fake_clocks.wall)
        fake_clocks.advance(entry.until - fake_clocks.wall + 1)
    assert waits == [100, 200, 350, 350]
    assert load(state, "check")[CHECK].reason == "hung past the audit's time limit"

    # Not run while set aside: neither a strike nor a clearing.
    checks = SetAsides(state, "check", LIMITS, fake_clocks.clocks())
    note_audit(checks, [check_result("set_aside")])
    assert load(state, "check")[CHECK].strikes == 4
    # Ran to its end (a pass here; a fail or an error alike): cleared, the next stop starts over.
    note_audit(checks, [check_result("")])
    assert load(state, "check") == {}
    note_audit(checks, [check_result("memory")])
    entry = load(state, "check")[CHECK]
    assert (entry.strikes, entry.until - fake_clocks.wall) == (1, 100)
    assert entry.reason == "ran out of its memory cap"
    state.close()


def test_a_wall_clock_jump_neither_stretches_nor_ends_a_cool_down(
    tmp_path: Path, fake_clocks: FakeClocks
) -> None:
    state = State.open(tmp_path / "state")
    s = scheduler(state, fake_clocks, Hangs())
    run_for(s, state, fake_clocks, 6)  # stopped at 5 s: set aside 100 s
    assert s.due_once("sleeper") is False
    fake_clocks.advance(50, wall=10 * 86400)  # the wall clock leaps 10 days ahead
    assert s.due_once("sleeper") is False
    fake_clocks.advance(40, wall=-20 * 86400)  # then falls back 20 days
    assert s.due_once("sleeper") is False
    fake_clocks.advance(10)  # 100 s on the monotonic clock since the stop
    assert s.due_once("sleeper") is True
    state.close()


def test_set_asides_survive_a_restart_and_show_on_metrics_and_the_status_page(
    tmp_path: Path, fake_clocks: FakeClocks
) -> None:
    clocks = fake_clocks
    clocks.wall = time.time()  # the status page compares with the real time
    state = State.open(tmp_path / "state")
    s = scheduler(state, clocks, Hangs())
    run_for(s, state, clocks, 6)  # the job stopped at its 5 s timeout: set aside 100 s
    note_audit(SetAsides(state, "check", LIMITS, clocks.clocks()), [check_result("timeout")] * 2)
    s.shutdown(1)
    state.close()

    state = State.open(tmp_path / "state")  # the agent starts again
    clocks.advance(30)
    s = scheduler(state, clocks, Hangs())
    assert 69 <= SetAsides(state, "job", LIMITS, clocks.clocks()).remaining("sleeper") <= 70
    assert not s.due_once("sleeper")
    reasons = SetAsides(state, "check", LIMITS, clocks.clocks()).reasons()
    assert list(reasons) == [CHECK] and "hung past the audit's time limit (2 in a row)" in reasons[CHECK]

    snapshot = state.snapshot()
    samples = {(m.name, tuple(sorted(x.labels.items()))): x.value
               for m in watchdog_families(snapshot) for x in m.samples}  # fmt: skip
    job, check = (("job", "sleeper"),), (("check", CHECK),)
    assert samples[("hostward_job_watchdog_stops", job)] == 1
    assert samples[("hostward_check_watchdog_stops", check)] == 2
    until = load(state, "job")["sleeper"].until
    assert samples[("hostward_job_cooldown_until_timestamp_seconds", job)] == until
    check_until = load(state, "check")[CHECK].until
    assert samples[("hostward_check_cooldown_until_timestamp_seconds", check)] == check_until
    assert f'data-set-aside="{until:.0f}"' in jobs_section(snapshot, "en")
    assert "已暂停至" in jobs_section(snapshot, "zh")
    state.close()

