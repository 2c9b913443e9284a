"""Time faults on a real agent: wall-clock jumps of ±2 h, SIGSTOP/SIGCONT, a stopped restic.

- Jumps: the agent runs under libfaketime (Debian `faketime`) with its offset read from a file
  at every call (FAKETIME_NO_CACHE), so the test moves the agent's wall clock while it runs.
  FAKETIME_DONT_FAKE_MONOTONIC keeps CLOCK_MONOTONIC real, as in a real clock jump (NTP step,
  an administrator's `date -s`). restic, started by the agent's runner, does not inherit
  LD_PRELOAD (the runner passes only PATH, HOME, ...): it keeps the real time.
- SIGSTOP/SIGCONT "after 10 minutes" is scaled: the agent stays stopped for 8 of its 1-second
  collection intervals (both clocks advance during a stop, so only the ratio matters).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from reliability_b_kit import (
    Agent,
    agent_env,
    backup_yaml,
    copy_repos,
    free_port,
    get,
    init_repos,
    job_runs,
)

from backup.errors import RepositoryLocked
from backup.locks import is_dead_here, pid_alive, settle_locks
from backup.restic import Repository, Restic
from collectors.system.runner import SubprocessRunner

FAKETIME_LIB = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))), Path("/nonexistent"))
pytestmark = pytest.mark.skipif(shutil.which("restic") is None, reason="restic is not installed")
PASSWORD = "CANARY-time-restic-5e1d\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repos")
    (root / "pass").write_text(PASSWORD)
    (root / "pass").chmod(0o600)
    init_repos(root, root / "pass")
    return root


@pytest.fixture
def setup(tmp_path: Path, template: Path) -> Iterator[dict[str, Path]]:
    source = tmp_path / "data"
    source.mkdir()
    (source / "病历.txt").write_text("住院记录\n" * 100)
    password = tmp_path / "restic.pass"
    password.write_text(PASSWORD)
    password.chmod(0o600)
    primary, secondary = copy_repos(template, tmp_path / "repos")
    yield {"source": source, "password": password, "primary": primary, "secondary": secondary}


def config(tmp_path: Path, s: dict[str, Path], port: int) -> Path:
    at = (datetime.now() - timedelta(minutes=30)).strftime("%H:%M")  # today's backup time has passed
    path = tmp_path / "hostward.yaml"
    path.write_text(
        f"version: 1\nstate_dir: {tmp_path / 'state'}\n"
        f'exporter: {{listen: "127.0.0.1:{port}"}}\n'
        "collect: {schedule: {every: 1s, timeout: 5s}}\n"
        "audit: {schedule: {every: 1h, enabled: false}}\n"
        + backup_yaml(s["source"], s["primary"], s["secondary"], s["password"], tmp_path / "cache",
                      f'{{at: "{at}", timeout: 2m}}'),
        encoding="utf-8",
    )
    return path


def faketime_env(offset_file: Path) -> dict[str, str]:
    return agent_env({
        "LD_PRELOAD": str(FAKETIME_LIB),
        "FAKETIME_TIMESTAMP_FILE": str(offset_file),
        "FAKETIME_NO_CACHE": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    })


def started_between(runs: list[tuple[float, int, str]], low: float, high: float) -> int:
    return sum(1 for started, _, _ in runs if low <= started < high)


@pytest.mark.skipif(not FAKETIME_LIB.exists(), reason="libfaketime (Debian faketime) is not installed")
def test_wall_clock_jumps_of_two_hours_cause_no_burst_and_no_second_backup(
    tmp_path: Path, setup: dict[str, Path]
) -> None:
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    state = tmp_path / "state"
    cfg = config(tmp_path, setup, free_port())
    agent = Agent(tmp_path, cfg, env=faketime_env(offset))
    try:
        url = agent.url()
        agent.wait_for(lambda: job_runs(state, "backup"), timeout=60, what="the day's backup")
        assert job_runs(state, "backup")[0][1] == 1, job_runs(state, "backup")
        per_window = []
        for jump in ("+2h", "-2h", "+0"):
            before = len(job_runs(state, "collect"))
            offset.write_text(jump + "\n")
            t0 = time.monotonic()
            time.sleep(3)
            per_window.append((len(job_runs(state, "collect")) - before, time.monotonic() - t0))
        status, _, took = get(f"{url}/metrics")
        first_life = job_runs(state, "backup")
    finally:
        agent.stop()
    assert "wall clock moved +7200s" in agent.stderr and "wall clock moved -14400s" in agent.stderr
    assert len(first_life) == 1, first_life  # neither jump re-ran the day's backup
    print(f"\nFIGURE collect runs per ~3s window after +2h, -2h (-4h), back: {per_window}")
    for runs, seconds in per_window:  # collection kept its 1 s cadence: no burst, no stall
        assert 1 <= runs <= seconds + 2, per_window
    assert status == 200 and took < 2

    # Restarted with the clock two hours back: the day's backup is still done.
    offset.write_text("-2h\n")
    again = Agent(tmp_path, cfg, env=faketime_env(offset))
    try:
        again.url()
        again.wait_for(lambda: len(job_runs(state, "collect")) > sum(r for r, _ in per_window) + 3,
                       what="collection after the restart")
    finally:
        again.stop()
    assert len(job_runs(state, "backup")) == 1


def test_sigstop_then_sigcont_runs_each_job_once_not_a_burst(tmp_path: Path, setup: dict[str, Path]) -> None:
    state = tmp_path / "state"
    cfg = config(tmp_path, setup, free_port())
    agent = Agent(tmp_path, cfg)
    try:
        url = agent.url()
        agent.wait_for(lambda: job_runs(state, "backup"), timeout=60, what="the day's backup")
        agent.wait_for(lambda: len(job_runs(state, "collect")) >= 3, what="collection")
        agent.proc.send_signal(signal.SIGSTOP)
        time.sleep(8)  # eight missed collections ("10 minutes", scaled)
        resumed = time.time()
        agent.proc.send_signal(signal.SIGCONT)
        time.sleep(3)
        status, _, took = get(f"{url}/metrics")
    finally:
        if agent.proc.poll() is None:
            agent.proc.send_signal(signal.SIGCONT)
        agent.stop()
    collects = job_runs(state, "collect")
    assert started_between(collects, resumed - 8, resumed - 0.5) == 0  # it was really stopped
    assert started_between(collects, resumed - 0.5, resumed + 1.0) <= 2  # one catch-up, no burst
    assert 1 <= started_between(collects, resumed + 1.0, resumed + 3.0) <= 4  # cadence resumed
    assert len(job_runs(state, "backup")) == 1
    assert status == 200 and took < 2
    print(f"\nFIGURE after SIGCONT: {started_between(collects, resumed - 0.5, resumed + 1.0)} run(s) in"
          f" the first 1.5s, {started_between(collects, resumed + 1.0, resumed + 3.0)} in the next 2s")


def hold_lock(repo: Repository, cache: Path) -> subprocess.Popen[bytes]:
    """A live restic holding a lock: `backup --stdin` waiting on its pipe."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cache), "RESTIC_CACHE_DIR": str(cache), **repo.child_env()}
    proc = subprocess.Popen(
        ["restic", "backup", "--stdin", "--stdin-filename", "held"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    locks = Path(repo.url) / "locks"
    deadline = time.monotonic() + 20
    while not any(locks.iterdir()):
        assert time.monotonic() < deadline, "restic did not take its lock"
        time.sleep(0.05)
    return proc


def test_a_lock_of_a_stopped_restic_is_not_judged_stale_even_two_hours_later(
    tmp_path: Path, setup: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process, not under faketime: libfaketime turns Python's `time.sleep` (an absolute
    CLOCK_MONOTONIC nanosleep) into EINVAL once an offset is set, which the agent's runner would
    hit while waiting for restic. The wall clock of this process is moved instead."""
    repo = Repository("primary", str(setup["primary"]), password_file=str(setup["password"]))
    restic = Restic(repo, SubprocessRunner(), cache_dir=str(tmp_path / "cache"))
    holder = hold_lock(repo, tmp_path / "cache")
    held = set(restic.list_locks())
    holder.send_signal(signal.SIGSTOP)
    real_time = time.time
    try:
        [lock] = [restic.cat_lock(i) for i in held]
        # The system clock jumps 2 h forward: the lock looks 2 h old (restic's own rule: stale
        # after 30 min), and its process, whose start is read through the wall clock, looks
        # 2 h younger than its lock (the "reused PID" rule).
        monkeypatch.setattr(time, "time", lambda: real_time() + 7200)
        jumped = lambda pid, since: pid_alive(pid, since - 7200)  # noqa: E731
        assert not is_dead_here(lock, lock.hostname, jumped)
        shared = settle_locks(restic, wait=1, exclusive=False, alive=jumped)
        with pytest.raises(RepositoryLocked, match=f"live PID {lock.pid}"):
            settle_locks(restic, wait=1, exclusive=True, alive=jumped, sleep=lambda s: None)
        monkeypatch.setattr(time, "time", real_time)
        still = set(restic.list_locks())
    finally:
        monkeypatch.setattr(time, "time", real_time)
        holder.send_signal(signal.SIGCONT)
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(30)
    assert shared.removed == ()  # a shared lock does not block a backup, and is left alone
    assert held <= still, "the stopped restic's lock was removed"
