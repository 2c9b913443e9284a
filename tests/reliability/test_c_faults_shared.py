"""Write errors of CLI commands reach the daemon's /metrics (agent/faults.py, faults-cli.json).

- Recorded by one process, summed by another; several CLI processes add up.
- On a full disk the file is overwritten in place; the in-process counter counts regardless.
- For real: a running agent, `hostward backup prune` whose journal line cannot be written (the
  journal file read-only), and the error on the agent's /metrics.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_c_kit import fill, hostward, needs_root, sample, tmpfs
from testkit import AgentProcess, free_port

from agent import faults
from agent.journal import Journal


@pytest.fixture(autouse=True)
def unconfigured() -> Iterator[None]:
    yield
    faults.include(None)
    faults.record_to(None)


def count(kind: str) -> int:
    fault = faults.snapshot()[1].get(kind)
    return fault.count if fault else 0


def on_file(state: Path, kind: str) -> int:
    return int(json.loads((state / faults.CLI_FILE).read_bytes())[kind]["count"])


def test_faults_recorded_by_cli_processes_add_to_the_daemons_own(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    faults.include(state)
    own, version = count("state_write"), faults.snapshot()[0]
    faults.record_to(state)  # a CLI command ...
    faults.note("state_write", "database or disk is full", now=1000.0)
    faults.note("state_write", "database or disk is full", now=1001.0)  # ... and another one
    assert on_file(state, "state_write") == 2
    faults.include(state)  # the daemon: its own faults and the file's
    assert count("state_write") == own + 2 + 2  # this test process noted two of its own too
    assert faults.snapshot()[0] != version  # the render cache is invalidated
    faults.note("journal_write", "the daemon's own", now=1002.0)
    assert on_file(state, "state_write") == 2 and "journal_write" not in json.loads(
        (state / faults.CLI_FILE).read_bytes())  # the daemon records nothing of its own there


def test_a_torn_or_foreign_file_counts_as_nothing_recorded(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    faults.include(state)
    own = count("journal_write")
    junks = (b'{"journal_write": {"count": 4', b"[1, 2]", b'{"journal_write": {"count": "x"}}', b"\xff\xfe")
    for junk in junks:
        (state / faults.CLI_FILE).write_bytes(junk)
        assert count("journal_write") == own


@needs_root
def test_on_a_full_disk_the_file_is_overwritten_in_place(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        state = disk / "state"
        state.mkdir()
        faults.record_to(state)
        faults.note("journal_write", "first")
        size = (state / faults.CLI_FILE).stat().st_size
        assert size % 4096 == 0
        fill(disk)
        own = count("journal_write")
        faults.note("journal_write", "[Errno 28] No space left on device")
        assert count("journal_write") == own + 1  # the process's own counter, whatever the file did
        assert on_file(state, "journal_write") == 2 and (state / faults.CLI_FILE).stat().st_size == size


def scrape(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        return str(response.read().decode("utf-8"))


@needs_root
def test_a_cli_journal_write_error_appears_on_the_running_agents_metrics(tmp_path: Path) -> None:
    state = tmp_path / "state"
    Journal(state).append("test.seed", {})
    password = tmp_path / "restic.pass"
    password.write_text("secret-pass-for-prune")
    password.chmod(0o600)
    cfg = tmp_path / "hostward.yaml"
    cfg.write_text(
        f"version: 1\nstate_dir: {state}\n"
        f'exporter: {{listen: "127.0.0.1:{free_port()}"}}\n'
        "collect: {schedule: {every: 1h, timeout: 30s}}\n"
        "audit: {schedule: {every: 1h, enabled: false}}\n"
        'report: {daily: {schedule: {at: "23:55", enabled: false}}}\n'
        f"backup:\n  sources: [{tmp_path}]\n  repositories:\n"
        f"    primary: {{url: {tmp_path / 'no-repo'}, password_file: {password}}}\n",
        encoding="utf-8",
    )
    agent = AgentProcess(tmp_path, cfg)
    journal = state / "journal.jsonl"
    try:
        url = agent.url()
        assert sample(scrape(url), "hostward_journal_write_errors_total") == 0
        subprocess.run(("mount", "--bind", str(journal), str(journal)), check=True, timeout=30)
        try:
            subprocess.run(("mount", "-o", "remount,bind,ro", str(journal)), check=True, timeout=30)
            done = hostward("backup", "prune", "-c", str(cfg))
        finally:
            subprocess.run(("umount", "-l", str(journal)), check=True, timeout=30)
        assert "journal: cannot record backup.prune" in done.stderr and "Read-only file system" in done.stderr
        assert on_file(state, "journal_write") == 1
        agent.wait_for(lambda: sample(scrape(url), "hostward_journal_write_errors_total") == 1,
                       timeout=10, what="the CLI's journal write error on /metrics")
        assert sample(scrape(url), "hostward_journal_last_write_error_timestamp_seconds") is not None
    finally:
        assert agent.stop() == 0
