"""Helpers of the reliability tests, part B (watchdog, time, crash, secrets): a real agent
process, fake programs on PATH, restic repositories, and readers of the state database."""

from __future__ import annotations

import shutil
import sqlite3
import time
import urllib.request
from pathlib import Path

from testkit import HOSTWARD, ROOT, AgentProcess, agent_env, free_port  # noqa: F401

from backup.restic import Repository, Restic
from collectors.system.runner import SubprocessRunner

# `hostward run` with extra jobs: a wrapper replaces agent.jobs.JOBS, then runs the real main.
# HANG_JOB: a Python action that never returns (it cannot be killed: the job stays blocked).
# SLEEP_JOB: an action whose command hangs (`sleep 1000`): the runner kills it at the deadline.
WITH_HUNG_JOBS = """
import sys, threading
import agent.jobs as jobs
from agent.actions.base import JobOutcome
from common.schema.common import Schedule
from common.schema.fields import Duration
from collectors.system.runner import SubprocessRunner

def hang(ctx):
    threading.Event().wait()
    return JobOutcome(True)

def sleeper(ctx):
    result = SubprocessRunner().run(("sleep", "1000"), timeout=ctx.remaining() + 0.5)
    return JobOutcome(result.ok, "sleep was killed" if not result.ok else "")

every = Schedule(every=Duration(1), timeout=Duration(1))
jobs.JOBS = jobs.JOBS + (
    jobs.JobSpec("hang", lambda c: every, hang),
    jobs.JobSpec("sleeper", lambda c: every, sleeper),
)
from agent.cli import main
sys.exit(main(sys.argv[1:]))
"""


def fake_program(bindir: Path, name: str, body: str) -> Path:
    """An executable `name` in `bindir` (a shell script), put first on PATH by the test."""
    bindir.mkdir(parents=True, exist_ok=True)
    path = bindir / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


Agent = AgentProcess  # the name part A's kit and these tests use


def get(url: str, timeout: float = 5) -> tuple[int, str, float]:
    """(status, body, seconds) of one GET."""
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read().decode("utf-8")
        return response.status, body, time.monotonic() - started


def job_runs(state_dir: Path, job: str) -> list[tuple[float, int, str]]:
    """(started, success, error) of every stored run of `job`, with a connection of our own."""
    db_path = state_dir / "state.db"
    if not db_path.exists():
        return []
    db = sqlite3.connect(db_path, timeout=10)
    try:
        rows = db.execute(
            "SELECT started, success, error FROM job_runs WHERE job = ? ORDER BY id", (job,)
        ).fetchall()
        return [(float(a), int(b), str(c)) for a, b, c in rows]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        db.close()


def metric(body: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    head = f"{name}{{{want}}}" if want else name
    for line in body.splitlines():
        if line.startswith(head + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def init_repos(root: Path, password_file: Path) -> tuple[Path, Path]:
    """Two empty restic repositories under `root` (primary, secondary)."""
    runner = SubprocessRunner()
    out = []
    for name in ("primary", "secondary"):
        url = root / name
        if not url.exists():
            Restic(Repository(name, str(url), password_file=str(password_file)), runner,
                   cache_dir=str(root / "cache")).init()
        out.append(url)
    return out[0], out[1]


def copy_repos(template: Path, dest: Path) -> tuple[Path, Path]:
    for name in ("primary", "secondary"):
        shutil.copytree(template / name, dest / name)
    return dest / "primary", dest / "secondary"


def backup_yaml(source: Path, primary: Path, secondary: Path, password_file: Path, cache: Path,
                schedule: str) -> str:
    """The `backup:` section with verify, prune and drill switched off (they would add load)."""
    off = '{at: "03:00", enabled: false}'
    return f"""\
backup:
  sources: ["{source}"]
  cache_dir: "{cache}"
  lock_wait: 2s
  schedule: {schedule}
  secondary_mode: independent
  verify: {{schedule: {off}}}
  retention: {{schedule: {off}}}
  drill: {{schedule: {off}}}
  repositories:
    primary: {{url: "{primary}", password_file: "{password_file}"}}
    secondary: {{url: "{secondary}", password_file: "{password_file}"}}
"""
