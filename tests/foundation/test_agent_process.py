"""`hostward run` as a real process: --once, kill -9 and restart, SIGTERM, SIGHUP, lazy imports."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.journal import Journal

Hostward = Callable[..., subprocess.CompletedProcess[str]]
WriteConfig = Callable[[str], Path]

# Dependency injection through the job registry: a wrapper replaces agent.jobs.JOBS, then runs
# the same `main` as the console script.
WITH_BROKEN_JOB = """
import sys
import agent.jobs as jobs
def broken(ctx):
    raise OSError("the backup disk is gone")
jobs.JOBS = jobs.JOBS + (jobs.JobSpec("broken", lambda c: c.collect.schedule, broken),)
from agent.cli import main
sys.exit(main(sys.argv[1:]))
"""

CONFIG = """\
version: 1
state_dir: {state}
exporter: {listen: "127.0.0.1:PORT"}
collect:
  schedule: {every: 1s, timeout: 5s}
"""


def runs(state_dir: Path, job: str = "collect") -> list[tuple[int, str]]:
    """(success, error) of every stored run, read with a connection of our own."""
    if not (state_dir / "state.db").exists():
        return []
    db = sqlite3.connect(state_dir / "state.db", timeout=10)
    try:
        return db.execute("SELECT success, error FROM job_runs WHERE job = ? ORDER BY id", (job,)).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # the agent has not created it yet
            return []
        raise
    finally:
        db.close()


def verdicts(stdout: str) -> dict[str, str]:
    """`run --once` prints `JOB: ok (0.01s)` / `JOB: failed: why (0.01s)`: {job: verdict}."""
    out = {}
    for line in stdout.splitlines():
        job, _, rest = line.partition(": ")
        out[job] = rest.rsplit(" (", 1)[0]
    return out


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode("utf-8")


def test_run_once_runs_each_due_job_records_it_and_exits_0(
    write_config: WriteConfig, hostward: Hostward, tmp_path: Path
) -> None:
    # The systemd-backed checks are honestly `error` on a machine without systemd as PID 1
    # (containers, CI): left out, so that exit 0 means every job ran well.
    path = write_config(
        "version: 1\nstate_dir: {state}\n"
        "audit: {disabled_checks: [sys.firewall_on, sys.time_sync, sys.audit_logging,"
        " av.auto_update_linux]}\n"
    )
    first = hostward("run", "--once", "-c", str(path))
    assert first.returncode == 0, first.stderr
    assert verdicts(first.stdout)["collect"] == "ok"
    second = hostward("run", "--once", "-c", str(path))
    assert second.returncode == 0
    assert runs(tmp_path / "state") == [(1, ""), (1, "")]


def test_run_once_exits_1_when_a_job_fails_and_records_why(write_config: WriteConfig, tmp_path: Path) -> None:
    path = write_config("version: 1\nstate_dir: {state}\n")
    result = subprocess.run(
        (sys.executable, "-c", WITH_BROKEN_JOB, "run", "--once", "-c", str(path)),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    shown = verdicts(result.stdout)
    assert shown["broken"] == "failed: OSError: the backup disk is gone"
    assert shown["collect"] == "ok"
    assert runs(tmp_path / "state", "broken") == [(0, "OSError: the backup disk is gone")]


def test_without_devices_the_network_libraries_are_never_imported(write_config: WriteConfig) -> None:
    # the audit job is off: under load a probe may time out, and this test is about imports
    path = write_config("version: 1\nstate_dir: {state}\naudit: {schedule: {every: 15m, enabled: false}}\n")
    script = f"""
import json, sys, io, contextlib
from agent.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["run", "--once", "-c", {str(path)!r}])
heavy = ("paramiko", "netmiko", "pysnmp")
before = [m for m in heavy if m in sys.modules]
import paramiko  # the check itself must be able to see an import
after = [m for m in heavy if m in sys.modules]
print(json.dumps({{"code": code, "before": before, "after": after}}))
"""
    result = subprocess.run(
        (sys.executable, "-c", script), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == {"code": 0, "before": [], "after": ["paramiko"]}


def test_kill_9_mid_run_keeps_history_and_the_database_intact(
    write_config: WriteConfig, start_agent: Callable[..., Any], port: int, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    path = write_config(CONFIG.replace("PORT", str(port)))
    agent = start_agent(path)
    agent.wait_for(lambda: len(runs(state)) >= 3, what="three collect runs")
    agent.proc.send_signal(signal.SIGKILL)
    agent.proc.wait(10)
    before = runs(state)
    db = sqlite3.connect(state / "state.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    again = start_agent(path)
    again.wait_for(lambda: len(runs(state)) >= len(before) + 2, what="new runs after the restart")
    after = runs(state)
    assert after[: len(before)] == before
    assert all(success for success, _ in after)
    again.proc.send_signal(signal.SIGTERM)
    assert again.proc.wait(10) == 0
    db = sqlite3.connect(state / "state.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()


def test_sigterm_stops_the_agent_with_exit_0_within_a_few_seconds(
    write_config: WriteConfig, start_agent: Callable[..., Any], port: int, tmp_path: Path
) -> None:
    path = write_config(CONFIG.replace("PORT", str(port)))
    agent = start_agent(path)
    banner = agent.banner()
    url = f"http://127.0.0.1:{port}/"
    assert banner == (
        f"hostward 0.1.0: status page {url}  metrics {url}metrics  state {tmp_path / 'state'}  config {path}"
    )
    assert get(url + "metrics")[0] == 200
    started = time.monotonic()
    agent.proc.send_signal(signal.SIGTERM)
    assert agent.proc.wait(10) == 0
    assert time.monotonic() - started < 4
    # the agent's own life: a job that ran meanwhile (the audit, in its worker) journals too
    kinds = [e.kind for e in Journal(tmp_path / "state").entries() if e.kind.startswith("agent.")]
    assert kinds == ["agent.start", "agent.stop"]


def test_sighup_with_a_broken_config_keeps_serving_with_the_old_one(
    write_config: WriteConfig, start_agent: Callable[..., Any], port: int, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    path = write_config(CONFIG.replace("PORT", str(port)))
    agent = start_agent(path)
    agent.banner()
    path.write_text(path.read_text() + "collect:\n  shedule: {every: 1s}\n")
    agent.proc.send_signal(signal.SIGHUP)
    agent.wait_for(lambda: "reload refused" in agent.stderr, what="the refusal")
    assert f"{path}:6: collect: duplicate key" in agent.stderr
    count = len(runs(state))
    agent.wait_for(lambda: len(runs(state)) >= count + 2, what="runs to go on")
    status, _ = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    # A valid change is taken: collect every 1h now, so runs stop.
    path.write_text(CONFIG.replace("PORT", str(port)).replace("{state}", str(state)).replace("1s,", "1h,"))
    agent.proc.send_signal(signal.SIGHUP)
    agent.wait_for(lambda: "reloaded the config" in agent.stderr, what="the reload")
    settled = len(runs(state))
    time.sleep(2.5)
    assert len(runs(state)) <= settled + 1
    assert get(f"http://127.0.0.1:{port}/metrics")[0] == 200
    agent.proc.send_signal(signal.SIGTERM)
    assert agent.proc.wait(10) == 0


def test_run_exits_2_with_a_clear_message_when_the_port_is_taken(
    write_config: WriteConfig, hostward: Hostward, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = write_config(CONFIG.replace("PORT", str(port)))
        result = hostward("run", "-c", str(path), timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"hostward: cannot start the exporter: exporter cannot listen on 127.0.0.1:{port}"
    )
    assert "Address already in use" in result.stderr
    assert result.stdout == ""


WITH_STUBBORN_JOB = """
import sys, time
import agent.jobs as jobs
def stubborn(ctx):
    print("stubborn started", file=sys.stderr, flush=True)
    time.sleep(120)  # ignores ctx.cancel on purpose
jobs.JOBS = (jobs.JobSpec("stubborn", lambda c: c.collect.schedule, stubborn),)
from agent.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_abandons_a_job_that_ignores_its_cancel_event_and_still_exits_0(
    write_config: WriteConfig, start_agent: Callable[..., Any], port: int, tmp_path: Path
) -> None:
    path = write_config(CONFIG.replace("PORT", str(port)).replace("timeout: 5s", "timeout: 10m"))
    agent = start_agent(path, WITH_STUBBORN_JOB)
    agent.wait_for(lambda: "stubborn started" in agent.stderr, what="the job to start")
    started = time.monotonic()
    agent.proc.send_signal(signal.SIGTERM)
    assert agent.proc.wait(15) == 0
    assert 4.5 < time.monotonic() - started < 8  # the 5 s grace, then out
    assert runs(tmp_path / "state", "stubborn") == [(0, "abandoned at shutdown after 5s")]
