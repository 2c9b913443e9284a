"""Jobs in worker processes under Wine: `run --once` with the bundle's python.exe, a job that
writes through the daemon from its worker, and a pure-Python job that hangs and is killed at
its timeout (TerminateProcess). The job module is dropped beside python.exe, where the
embeddable Python's ._pth looks ("."), since it ignores PYTHONPATH."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from wine_kit import INSTALL, WineBox

JOBS_MODULE = """
import os
from dataclasses import dataclass
from typing import ClassVar
from agent.actions.base import JobOutcome
from agent.records.base import start

@dataclass(frozen=True)
class NoteRecord:
    KIND: ClassVar[str] = "note"
    VERSION: ClassVar[int] = 1
    pid: int

    def to_json(self):
        return {"version": 1, "pid": self.pid}

    @classmethod
    def from_json(cls, data):
        return cls(start(cls.KIND, cls.VERSION, data).integer("pid"))

def note(ctx):
    ctx.state.put_record(NoteRecord(os.getpid()))
    return JobOutcome(ctx.state.record(NoteRecord) is not None)

def hang(ctx):
    ctx.state.put("hang.pid", os.getpid())
    while True:
        pass
"""

MAIN = """
import os, sys
print(f"main pid {os.getpid()}", file=sys.stderr, flush=True)
import agent.jobs as jobs
from common.schema import Duration
from common.schema.common import Schedule
hourly = Schedule(every=Duration(3600), timeout=Duration(10))
jobs.JOBS = (
    jobs.JobSpec("note", lambda c: hourly, "wine_worker_jobs:note"),
    jobs.JobSpec("hang", lambda c: hourly, "wine_worker_jobs:hang"),
)
from agent.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _read(state: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(state / "state.db")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_under_wine_a_job_runs_in_a_worker_process_and_a_hung_one_is_killed_at_its_timeout(
    wine_box: WineBox,
) -> None:
    python_dir = wine_box.unix_path(INSTALL + r"\python")
    (python_dir / "wine_worker_jobs.py").write_text(JOBS_MODULE, encoding="utf-8")
    folder = wine_box.scratch("workers")
    (folder / "main.py").write_text(MAIN, encoding="utf-8")
    text = f"version: 1\nstate_dir: '{wine_box.win_path(folder)}\\state'\n"
    (folder / "hostward.yaml").write_text(text, encoding="utf-8")

    config = wine_box.win_path(folder / "hostward.yaml")
    done = wine_box.python(wine_box.win_path(folder / "main.py"), "run", "--once", "-c", config, timeout=240)
    out = done.out("cp1252")
    assert "hang: failed: killed at its 10 s timeout" in out, done.describe()
    assert "note: ok" in out, done.describe()
    assert done.returncode == 1  # one job failed

    state = folder / "state"
    main_pid = int(done.err("cp1252").split("main pid ", 1)[1].split()[0])
    [(payload,)] = _read(state, "SELECT payload FROM records WHERE kind = 'note'")
    assert json.loads(str(payload))["pid"] != main_pid  # written by the daemon, from another process
    [(hang_pid,)] = _read(state, "SELECT value FROM kv WHERE key = 'hang.pid'")
    alive = wine_box.python("-c", f"import psutil; print(psutil.pid_exists({int(str(hang_pid))}))")
    assert alive.out("cp1252").strip() == "False", alive.describe()
    assert _read(state, "SELECT success, error FROM job_runs WHERE job = 'hang'") == [
        (0, "killed at its 10 s timeout")
    ]
