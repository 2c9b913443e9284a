"""A wall clock that ran ahead (2038) and was then set back must not silence the nightly jobs.

- The real agent under libfaketime (the kit of test_b_time.py) runs its `at` jobs (backup to two
  real restic repositories, the daily record) with the clock in 2038, then restarts with the
  real clock: the stale stamps are flagged on /metrics, logged and journaled, and the jobs run
  at their next slot (the test moves the agent's clock to just before it); afterwards the
  exported backup timestamps are not in the future.
- In process, with clocks the test moves: a restart and a live set-back, the last success is the
  newest written one, a set-aside from 2038; the daily record, a device outage opened in 2038
  and a snapshot of 2038 in the coverage.
- The shipped alert rules: every "too old" alert also fires on a timestamp an hour or more in
  the future (promtool), and the unit tests catch a rule that forgets it.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from reliability_b_kit import Agent, backup_yaml, free_port, init_repos, job_runs
from reliability_c_kit import kinds, sample
from test_b_time import FAKETIME_LIB, faketime_env
from testkit import put_json

from agent.actions.base import JobOutcome
from agent.config import Config
from agent.journal import Journal
from agent.report.daily import backup_item
from agent.scheduler import ScheduledJob, Scheduler
from agent.state import State
from agent.timing import Clocks
from agent.watchdog import SetAside, load, save
from backup.coverage import coverage
from backup.model import Snapshot
from collectors.devices import outages
from common.schema.common import Schedule

PASSWORD = "CANARY-clock-restic-77a0\n"
Y2038 = datetime(2038, 1, 10, tzinfo=UTC).timestamp()
RULES_DIR = Path(__file__).resolve().parents[2] / "playbooks/files/prometheus"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[dict[str, Path]]:
    source = tmp_path / "data"
    source.mkdir()
    (source / "病历.txt").write_text("住院记录\n" * 50)
    password = tmp_path / "restic.pass"
    password.write_text(PASSWORD)
    password.chmod(0o600)
    primary, secondary = init_repos(tmp_path / "repos", password)
    yield {"source": source, "password": password, "primary": primary, "secondary": secondary}


def metrics(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        return str(response.read().decode("utf-8"))


@pytest.mark.skipif(shutil.which("restic") is None, reason="restic is not installed")
@pytest.mark.skipif(not FAKETIME_LIB.exists(), reason="libfaketime (Debian faketime) is not installed")
def test_after_a_run_in_2038_the_nightly_jobs_run_at_their_next_slot_with_the_real_clock(
    tmp_path: Path, setup: dict[str, Path]
) -> None:
    slot = datetime.now() - timedelta(minutes=30)  # local time; today's slot has passed
    at = slot.strftime("%H:%M")
    state = tmp_path / "state"
    cfg = tmp_path / "hostward.yaml"
    cfg.write_text(
        f"version: 1\nstate_dir: {state}\n"
        f'exporter: {{listen: "127.0.0.1:{free_port()}"}}\n'
        "collect: {schedule: {every: 1s, timeout: 5s}}\n"
        "audit: {schedule: {every: 1h, enabled: false}}\n"
        f'report: {{daily: {{schedule: {{at: "{at}", timeout: 1m}}}}}}\n'
        + backup_yaml(setup["source"], setup["primary"], setup["secondary"], setup["password"],
                      tmp_path / "cache", f'{{at: "{at}", timeout: 2m}}'),
        encoding="utf-8",
    )
    offset = tmp_path / "faketime"
    offset.write_text(f"+{(date(2038, 1, 10) - date.today()).days}d\n")
    ahead = Agent(tmp_path, cfg, env=faketime_env(offset))
    try:
        ahead.url()
        ahead.wait_for(lambda: job_runs(state, "backup") and job_runs(state, "report_daily"), timeout=60,
                       what="the nightly jobs in 2038")
    finally:
        ahead.stop()
    assert job_runs(state, "backup")[0][0] > Y2038 - 86400 and job_runs(state, "backup")[0][1] == 1

    offset.write_text("+0\n")  # the clock is corrected
    again = Agent(tmp_path, cfg, env=faketime_env(offset))
    try:
        url = again.url()
        again.wait_for(lambda: "future" in again.stderr and "taken as done now" in again.stderr,
                       what="the stale stamps reported")
        flagged = metrics(url)
        assert (sample(flagged, "hostward_stored_timestamps_in_future", source="backup") or 0) >= 2
        assert len(job_runs(state, "backup")) == 1  # not re-run at once: its next slot is tomorrow
        # Move the agent's clock to 3 s before the next slot: the job must fire there.
        nxt = (slot + timedelta(days=1)).replace(second=0, microsecond=0).timestamp()
        offset.write_text(f"+{int(nxt - time.time() - 3)}\n")
        again.wait_for(lambda: len(job_runs(state, "backup")) == 2 == len(job_runs(state, "report_daily")),
                       timeout=60, what="the nightly jobs at their next slot")
        after = metrics(url)
    finally:
        again.stop()
    assert [r[1] for r in job_runs(state, "backup")] == [1, 1]
    assert kinds(state).count("clock.future_timestamp") == 2  # backup and report_daily, once each
    for repo in ("primary", "secondary"):
        last = sample(after, "hostward_backup_last_success_timestamp_seconds", repository=repo)
        assert last is not None and last < nxt + 300, (repo, last)  # no longer in 2038
    job_last = sample(after, "hostward_job_last_success_timestamp_seconds", job="backup")
    assert job_last is not None and job_last < nxt + 300
    assert sample(after, "hostward_stored_timestamps_in_future", source="backup") == 0


# -- in process, clocks moved by the test ---------------------------------------------------------


class Moved:
    """A wall and a monotonic clock moved by the test; `wait` never sleeps for real."""

    def __init__(self, wall: float) -> None:
        self.wall, self.mono = wall, 1000.0

    def clocks(self) -> Clocks:
        def wait(event: threading.Event, seconds: float) -> bool:
            return event.wait(0.01)

        return Clocks(monotonic=lambda: self.mono, wall=lambda: self.wall, wait=wait, tz=UTC)


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class Count:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, ctx: object) -> JobOutcome:
        self.calls += 1
        return JobOutcome(True)


def scheduler(state: State, clock: Moved, action: Count, at: str = "02:00") -> Scheduler:
    job = ScheduledJob("backup", Schedule(at=at), action)
    return Scheduler([job], config=Config(), state=state, state_dir=state.path.parent,
                     clocks=clock.clocks(), rng=random.Random(1))


def run_ticks(s: Scheduler, clock: Moved, seconds: float, step: float = 600) -> None:
    for _ in range(int(seconds // step)):
        clock.mono += step
        clock.wall += step
        s.tick()
        assert s.wait_idle(10)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    st = State.open(tmp_path / "state")
    yield st
    st.close()


@pytest.mark.parametrize("ahead", ["2038-01-10T02:00:30", "2027-11-23T02:00:30", "2026-11-26T02:00:30"],
                         ids=["2038", "a-year", "three-days"])
def test_a_restart_after_a_success_stamped_in_the_future_runs_the_at_job_at_its_next_slot(
    state: State, ahead: str
) -> None:
    state.record_run("backup", utc(ahead), 30.0, True)
    clock = Moved(utc("2026-11-23T10:00:00"))
    action = Count()
    s = scheduler(state, clock, action)
    s.tick()
    assert action.calls == 0  # today's 02:00 is taken as done: no run at once
    run_ticks(s, clock, 17 * 3600)  # to 03:00 tomorrow
    assert action.calls == 1
    assert "clock.future_timestamp" in [e.kind for e in Journal(state.path.parent).entries()]


def test_a_live_set_back_from_2038_re_aims_the_at_job_at_its_next_slot(state: State) -> None:
    clock = Moved(utc("2038-01-10T01:59:00"))
    action = Count()
    s = scheduler(state, clock, action)
    run_ticks(s, clock, 1200, step=60)  # 02:00 in 2038 runs
    assert action.calls == 1
    clock.wall = utc("2026-11-23T10:00:00")  # the clock is corrected while the agent runs
    clock.mono += 1
    s.tick()
    run_ticks(s, clock, 17 * 3600)
    assert action.calls == 2


def test_the_last_success_is_the_newest_written_not_the_largest_time(state: State) -> None:
    state.record_run("backup", utc("2038-01-10T02:00:00"), 30.0, True)
    state.record_run("backup", utc("2026-11-23T02:00:00"), 30.0, True)
    assert state.snapshot().jobs["backup"].last_success == utc("2026-11-23T02:00:30")


def test_a_set_aside_stamped_in_2038_is_brought_back_to_cooldown_max_and_stored(state: State) -> None:
    save(state, "job", {"backup": SetAside(utc("2038-01-10T00:00:00"), 3, "timed out")})
    clock = Moved(utc("2026-11-23T10:00:00"))
    scheduler(state, clock, Count())
    until = load(state, "job")["backup"].until
    assert until <= clock.wall + Config().limits.cooldown_max


@pytest.mark.parametrize(("stamped", "level"),
                         [(-3600.0, "ok"), (400.0, "crit"), (12 * 365 * 86400.0, "crit")],
                         ids=["an-hour-ago", "minutes-ahead", "2038"])
def test_the_daily_record_takes_a_backup_stamped_in_the_future_as_no_backup(
    state: State, stamped: float, level: str
) -> None:
    now = utc("2026-11-23T10:00:00")
    entry = {"status": "ok", "last_success": now + stamped, "last_attempt": now + stamped - 30}
    put_json(state, "backup", {"repositories": {"primary": entry}})
    item = backup_item(state, now, configured=True)
    assert item.level == level, item
    if level == "crit":
        assert "stamped in the future" in item.en and "时间在未来" in item.zh


def test_an_outage_opened_while_the_clock_ran_ahead_still_passes_its_thresholds() -> None:
    now = utc("2026-11-23T10:00:00")
    book = {"open": {"core-switch": {"start": Y2038, "reason": "no answer"}}}
    book, _ = outages.update(book, {"core-switch": (False, "no answer")}, now)
    assert book["open"]["core-switch"] == {"start": now, "reason": "no answer", "restamped": True}
    [outage] = outages.open_outages(book)
    assert outages.over_thresholds(outage, now + 2 * 3600 + 1) == {"2h": True, "4h": False}
    kept, _ = outages.update({"open": {"ups": {"start": now - 60, "reason": "x"}}}, {}, now)
    assert kept["open"]["ups"] == {"start": now - 60, "reason": "x"}  # a past start is left alone


def test_a_snapshot_stamped_in_2038_does_not_push_real_gaps_out_of_the_coverage_window() -> None:
    def snap(sid: str, run: str, t: float) -> Snapshot:
        return Snapshot(sid, sid, t, ("/srv",), "h", (f"hostward-run:{run}",))

    now = time.time()
    cover = coverage({
        "primary": [snap("p1", "r1", now - 7200), snap("p2", "r2", now - 3600), snap("p9", "r9", Y2038)],
        "secondary": [snap("s1", "r1", now - 7200), snap("s9", "r9", Y2038)],
    }, window=86400)  # fmt: skip
    assert cover.missing == {"secondary": ("r2",)}
    clean = coverage({"primary": [snap("p1", "r1", now - 60)], "secondary": [snap("s1", "r1", now - 60)]})
    assert clean.gap == 0


# -- the shipped alert rules ------------------------------------------------------------------------

TOO_OLD = re.compile(r"time\(\) - (hostward_\w+(?:\{[^}]*\})?) >")


def test_every_too_old_alert_also_fires_on_a_timestamp_from_the_future() -> None:
    import yaml

    rules = yaml.safe_load((RULES_DIR / "hostward_rules.yml").read_text(encoding="utf-8"))
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    checked = 0
    for alert in alerts:
        for series in TOO_OLD.findall(alert["expr"]):
            assert f"{series} - time() > 3600" in alert["expr"], alert["alert"]
            checked += 1
    assert checked >= 4


@pytest.mark.skipif(shutil.which("promtool") is None, reason="needs Debian prometheus (promtool)")
def test_promtool_catches_a_too_old_rule_that_ignores_the_future(tmp_path: Path) -> None:
    shutil.copy(RULES_DIR / "hostward_rules_test.yml", tmp_path)
    text = (RULES_DIR / "hostward_rules.yml").read_text(encoding="utf-8")
    clause = "\n            or hostward_backup_last_success_timestamp_seconds - time() > 3600"
    assert clause in text
    (tmp_path / "hostward_rules.yml").write_text(text.replace(clause, ""), encoding="utf-8")
    done = subprocess.run(["promtool", "test", "rules", "hostward_rules_test.yml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "HostwardBackupTooOld" in done.stdout + done.stderr
