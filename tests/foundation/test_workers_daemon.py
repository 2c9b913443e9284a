"""`hostward run` with a job that hangs in its worker: the worker is killed at the job's
timeout, the run is an error, and the daemon goes on serving /metrics and running jobs."""

from __future__ import annotations

import json
import signal
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from testkit import AgentProcess, agent_env, free_port, wait_for

HERE = Path(__file__).resolve().parent

# Dependency injection through the job registry: collect, a job that hangs (timeout 2 s) and
# one that runs every 2 s, both in workers that import worker_jobs.py by name.
WITH_WORKER_JOBS = """
import sys
import agent.jobs as jobs
from common.schema import Duration
from common.schema.common import Schedule
hourly = Schedule(every=Duration(3600), timeout=Duration(2))
often = Schedule(every=Duration(2), timeout=Duration(60))
jobs.JOBS = (
    jobs.JOBS[0],
    jobs.JobSpec("hang", lambda c: hourly, "worker_jobs:hang"),
    jobs.JobSpec("note", lambda c: often, "worker_jobs:note"),
)
from agent.cli import main
sys.exit(main(sys.argv[1:]))
"""

CONFIG = """\
version: 1
state_dir: {state}
exporter: {{listen: "127.0.0.1:{port}"}}
collect:
  schedule: {{every: 5s, timeout: 5s}}
"""


def rows(state_dir: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    if not (state_dir / "state.db").exists():
        return []
    db = sqlite3.connect(state_dir / "state.db", timeout=10)
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        db.close()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[AgentProcess]:
    config = tmp_path / "hostward.yaml"
    config.write_text(CONFIG.format(state=tmp_path / "state", port=free_port()), encoding="utf-8")
    env = agent_env({"PYTHONPATH": str(HERE)})
    process = AgentProcess(tmp_path, config, script=WITH_WORKER_JOBS, env=env)
    yield process
    process.stop(graceful=False)


def test_a_hung_worker_is_killed_at_its_timeout_and_the_daemon_serves_and_runs_the_next_job(
    agent: AgentProcess, tmp_path: Path
) -> None:
    state = tmp_path / "state"

    def hang_runs() -> list[tuple[object, ...]]:
        return rows(state, "SELECT id, success, error FROM job_runs WHERE job = 'hang'")

    agent.wait_for(hang_runs, timeout=60, what="the hung job's run to be recorded")
    [(hang_id, success, error)] = hang_runs()
    assert (success, error) == (0, "killed at its 2 s timeout")
    [(pid_text,)] = rows(state, "SELECT value FROM kv WHERE key = 'hang.pid'")
    pid = json.loads(str(pid_text))
    wait_for(lambda: not psutil.pid_exists(pid), 10, "the killed worker to be gone")

    later = "SELECT success FROM job_runs WHERE job = 'note' AND id > ?"
    agent.wait_for(lambda: len(rows(state, later, hang_id)) >= 2, timeout=60, what="two runs of the next job")
    assert all(ok == 1 for (ok,) in rows(state, later, hang_id))

    with urllib.request.urlopen(agent.url() + "/metrics", timeout=10) as response:
        body = response.read().decode("utf-8")
    assert response.status == 200
    assert 'hostward_job_success{job="hang"} 0' in body
    assert 'hostward_job_success{job="note"} 1' in body

    agent.proc.send_signal(signal.SIGTERM)
    assert agent.proc.wait(20) == 0
