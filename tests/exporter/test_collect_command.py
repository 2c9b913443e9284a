"""`hostward collect` through the real console script, and the collect job storing its record."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

from agent.actions.base import JobContext
from agent.actions.collect import collect_job
from agent.config import load_config
from agent.state import State
from collectors.host import HostSnapshot

HOSTWARD = Path(sys.executable).parent / "hostward"


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "hostward.yaml"
    path.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n{extra}", encoding="utf-8")
    return path


def test_collect_json_prints_one_host_snapshot(tmp_path: Path) -> None:
    out = subprocess.run(
        [str(HOSTWARD), "collect", "--json", "-c", str(write_config(tmp_path))],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    snap = HostSnapshot.from_payload(json.loads(out.stdout))
    assert snap.memory is not None and snap.memory.total > 0
    assert "/" in [fs.mountpoint for fs in snap.filesystems]


def test_collect_prints_a_bilingual_table(tmp_path: Path) -> None:
    out = subprocess.run(
        [str(HOSTWARD), "collect", "-c", str(write_config(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "内存 Memory" in out.stdout and "磁盘 FS /" in out.stdout


def test_collect_with_an_invalid_config_exits_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, "collect:\n  temperature: yes\n")  # misspelt key
    out = subprocess.run(
        [str(HOSTWARD), "collect", "-c", str(config)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert "collect.temperature" in out.stderr


def test_the_collect_job_stores_the_host_record(tmp_path: Path) -> None:
    loaded = load_config(str(write_config(tmp_path)))
    state = State.open(loaded.state_dir)
    assert state.snapshot().records.get("host") is None
    ctx = JobContext(
        loaded.config,
        state,
        loaded.state_dir,
        time.monotonic() + 10,
        threading.Event(),
        logging.getLogger("t"),
    )
    outcome = collect_job(ctx)
    assert outcome.success and not outcome.partial
    record = state.snapshot().records.get("host")
    assert record is not None
    assert HostSnapshot.from_payload(record.payload).taken == record.taken
    state.close()


def test_the_collect_command_stores_the_host_record_the_job_stores(tmp_path: Path) -> None:
    out = subprocess.run(
        [str(HOSTWARD), "collect", "--json", "-c", str(write_config(tmp_path))],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout)
    state = State.open(tmp_path / "state")
    record = state.snapshot().records.get("host")
    state.close()
    assert record is not None and record.taken == printed["taken"]
    assert HostSnapshot.from_payload(record.payload) == HostSnapshot.from_payload(printed)


def test_the_collect_command_without_a_state_prints_and_says_nothing_was_stored(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a directory")  # the state cannot be opened
    out = subprocess.run(
        [str(HOSTWARD), "collect", "--json", "-c", str(write_config(tmp_path))],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert HostSnapshot.from_payload(json.loads(out.stdout)).memory is not None
    assert "collect: not stored" in out.stderr and "未保存" in out.stderr
