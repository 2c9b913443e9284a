"""Jobs in worker processes (agent/workers): real processes, a real State, real clocks.

The job functions live in worker_jobs.py, which the worker imports by name."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from testkit import ROOT, agent_env, wait_for
from worker_jobs import NoteRecord

from agent.actions.devices import apply_trap_state
from agent.config.limits import LimitsConfig, MiB
from agent.config.schema import Config
from agent.jobs import JobSpec, scheduled
from agent.journal import Journal
from agent.records.devices import DevicesRecord
from agent.scheduler import RunResult, Scheduler
from agent.state import State, StateError
from agent.workers import runner
from common.schema import Duration
from common.schema.common import Schedule

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _jobs_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker finds worker_jobs.py the way it finds any module: on its path."""
    monkeypatch.setenv("PYTHONPATH", str(HERE))


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    opened = State.open(tmp_path / "state")
    yield opened
    opened.close()


def make(state: State, *jobs: tuple[str, float], cap_mib: int = 512) -> Scheduler:
    """A scheduler of worker jobs `(name in worker_jobs, timeout seconds)`, each due now."""
    config = Config(
        state_dir=str(state.path.parent),
        limits=LimitsConfig(worker_memory_max_bytes=cap_mib * MiB),
    )
    specs = [JobSpec(name, hourly(timeout), f"worker_jobs:{name}") for name, timeout in jobs]
    return Scheduler(scheduled(specs, config), config=config, state=state, state_dir=state.path.parent)


def hourly(timeout: float) -> Callable[[Config], Schedule]:
    return lambda config: Schedule(every=Duration(3600), timeout=Duration(timeout))


def by_job(results: list[RunResult]) -> dict[str, RunResult]:
    return {r.job: r for r in results}


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_worker_job_writes_through_the_daemon_and_reads_its_own_writes(state: State) -> None:
    results = by_job(make(state, ("note", 60)).run_due_once())
    assert results["note"].success, results["note"].error
    stored = state.record(NoteRecord)
    assert stored is not None
    assert stored.record.pid != os.getpid()  # it ran in another process
    assert stored.record.read_back == {"pid": stored.record.pid}
    assert state.get("note.key") == {"pid": stored.record.pid}


def test_a_worker_job_s_updates_are_applied_by_the_daemon_on_what_it_holds_and_say_what_was_there(
    state: State,
) -> None:
    state.put("merged", {"daemon": 1})
    apply_trap_state(state, "sw", 1.0, observed={"sw/1": (False, "link down (trap)")})  # the receiver's
    results = by_job(make(state, ("updates", 60)).run_due_once())
    assert results["updates"].success, results["updates"].error
    answer = state.get("updates.answer")
    assert answer["pid"] != os.getpid()
    assert answer["before"] == {"daemon": 1} and answer["after"] == {"daemon": 1, "worker": answer["pid"]}
    assert state.get("merged") == answer["after"]
    assert answer["open_before"] == answer["open_after"] == ["sw/1"]
    stored = state.record(DevicesRecord)
    assert stored is not None and stored.record.rounds == {"devices": 5.0}
    assert [o.target for o in stored.record.outages.open] == ["sw/1"]


def test_a_pure_python_job_that_loops_forever_is_killed_at_its_timeout(state: State) -> None:
    results = by_job(make(state, ("hang", 2)).run_due_once())
    assert results["hang"].success is False
    assert results["hang"].error == "killed at its 2 s timeout"
    pid = state.get("hang.pid")
    assert isinstance(pid, int)
    wait_for(lambda: gone(pid), 10, "the hung worker to be gone")
    assert [(r.success, r.error) for r in state.runs("hang")] == [(False, "killed at its 2 s timeout")]


def test_a_command_a_hung_job_started_in_its_own_session_is_killed_with_it(state: State) -> None:
    scheduler = make(state, ("hang_with_child", 2))
    results = by_job(scheduler.run_due_once())
    assert results["hang_with_child"].error == "killed at its 2 s timeout"
    pids = state.get("hang.pids")
    assert isinstance(pids, list) and len(pids) == 2
    assert scheduler.wait_idle(15)
    wait_for(lambda: all(gone(p) for p in pids), 10, "the worker and its command to be gone")


@pytest.mark.parametrize(
    ("job", "error"),
    [
        ("segfault", "the worker process died: killed by signal 11 (SIGSEGV)"),
        ("hog", "MemoryError (the worker's memory cap is 256 MiB)"),
        ("exits", "the worker process died: exit code 7"),
    ],
)
def test_a_worker_that_crashes_fails_its_job_only_and_the_other_jobs_run(
    state: State, job: str, error: str
) -> None:
    scheduler = make(state, (job, 60), ("note", 60), cap_mib=256)
    results = by_job(scheduler.run_due_once())
    assert results[job].error == error
    assert [(r.success, r.error) for r in state.runs(job)] == [(False, error)]
    assert results["note"].success, results["note"].error
    assert by_job(scheduler.run_due_once())["note"].success  # and the next round too


def test_request_run_from_a_worker_starts_the_other_job(state: State) -> None:
    scheduler = make(state, ("asks_for_note", 60), ("note", 60))
    assert scheduler.run_now("asks_for_note") == "started"
    wait_for(lambda: state.record(NoteRecord), 60, "the requested job's record")
    assert scheduler.wait_idle(60)
    assert state.get("asked") == "started"
    assert [r.success for r in state.runs("asks_for_note")] == [True]
    assert [r.success for r in state.runs("note")] == [True]


class FullDisk(State):
    """The daemon's State when records cannot be written: as put_record fails on a full disk."""

    def put_record(self, item: Any, taken: float | None = None) -> Any:
        raise StateError("cannot write state database: database or disk is full")


def test_a_state_write_that_fails_in_the_daemon_raises_state_error_in_the_worker(tmp_path: Path) -> None:
    State.open(tmp_path / "state").close()
    from agent.state import connect

    full = FullDisk(connect(tmp_path / "state"), tmp_path / "state" / "state.db", 100)
    config = Config(state_dir=str(tmp_path / "state"))
    spec = JobSpec("full_disk", hourly(60), "worker_jobs:full_disk")
    scheduler = Scheduler(scheduled([spec], config), config=config, state=full, state_dir=tmp_path / "state")
    results = by_job(scheduler.run_due_once())
    assert results["full_disk"].error == (
        "StateError came back: cannot write state database: database or disk is full"
    )
    full.close()


def test_shutdown_kills_a_worker_that_ignores_its_cancel(state: State) -> None:
    scheduler = make(state, ("hang", 600))
    assert scheduler.run_now("hang") == "started"
    pid = wait_for(lambda: state.get("hang.pid"), 60, "the hung job to start")
    scheduler.shutdown(grace=5.0)
    wait_for(lambda: gone(pid), 10, "the cancelled worker to be gone")
    runs = state.runs("hang")
    assert len(runs) == 1 and runs[0].success is False
    assert runs[0].error == f"killed: cancelled and still running after {runner.CANCEL_GRACE:.0f} s"


def test_two_workers_journaling_at_once_keep_the_chain_intact(state: State) -> None:
    results = by_job(make(state, ("journal_a", 60), ("journal_b", 60)).run_due_once())
    assert results["journal_a"].success and results["journal_b"].success
    journal = Journal(state.path.parent)
    verdict = journal.verify()
    assert verdict.ok, verdict.problem
    mine = [e for e in journal.entries() if e.kind == "test.worker"]
    assert sorted((e.data["who"], e.data["i"]) for e in mine) == [(w, i) for w in "ab" for i in range(25)]


def test_the_daemon_imports_no_job_action_module() -> None:
    script = (
        "import sys\n"
        "import agent.daemon, agent.exporter.server\n"
        "from agent.config.schema import Config\n"
        "from agent.jobs import JOBS, scheduled\n"
        "scheduled(JOBS, Config())\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('agent.actions.'))))\n"
    )
    argv = [sys.executable, "-c", script]
    out = subprocess.run(argv, capture_output=True, text=True, env=agent_env(), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["agent.actions.base", "agent.actions.collect"]


def test_the_daemon_looks_for_the_undo_log_the_enforcement_writes() -> None:
    from agent import daemon
    from agent.actions import enforce

    assert daemon.UNDO_FILE == enforce.UNDO_FILE


def test_under_the_windows_service_workers_start_with_python_exe_beside_pythonservice_exe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pythonservice.exe").touch()
    (tmp_path / "python.exe").touch()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "pythonservice.exe"))
    assert runner.python_executable() == str(tmp_path / "python.exe")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python3"))
    assert runner.python_executable() == str(tmp_path / "python3")
