"""The access-log archive is in every backup, automatically (ROOM-6): the agent's plan adds it
to the sources and excludes the rest of the state directory entry by entry. Proven with a real
restic backup to a local repository: the segment is in the snapshot, the state database not,
even with the state directory inside a backed-up source."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from agent.access.archive import Archive
from agent.actions.backup_plan import plan_for
from agent.config import load_config
from agent.state import State
from backup.night import run_backup
from collectors.access import AccessEvent
from collectors.system.runner import SubprocessRunner

RESTIC = shutil.which("restic")


def _config(tmp_path: Path, source: Path, state: Path) -> Path:
    (tmp_path / "pw").write_text("correct horse\n")
    (tmp_path / "pw").chmod(0o600)
    path = tmp_path / "hostward.yaml"
    path.write_text(
        f"""version: 1
state_dir: "{state}"
backup:
  sources: ["{source}"]
  cache_dir: "{tmp_path / "cache"}"
  repositories:
    primary: {{url: "{tmp_path / "repo"}", password_file: "{tmp_path / "pw"}"}}
""",
        encoding="utf-8",
    )
    return path


def test_without_an_archive_the_state_directory_stays_excluded_whole(tmp_path: Path) -> None:
    loaded = load_config(str(_config(tmp_path, tmp_path / "data", tmp_path / "state")))
    plan = plan_for(loaded.config, loaded.state_dir)
    assert str(loaded.state_dir) in plan.protect
    assert plan.sources == (str(tmp_path / "data"),)


@pytest.mark.skipif(RESTIC is None, reason="needs restic")
def test_a_real_backup_holds_the_archive_and_not_the_rest_of_the_state_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    state_dir = data / "hostward-state"  # inside the source: the exclusions must hold
    state_dir.mkdir(parents=True)
    (data / "report.txt").write_text("patient data\n")
    State.open(state_dir).close()
    Archive(state_dir).append([AccessEvent(time.time(), "login", "alice", "wtmp")], time.time())
    loaded = load_config(str(_config(tmp_path, data, state_dir)))
    plan = plan_for(loaded.config, loaded.state_dir)
    assert str(state_dir / "access-log") in plan.sources
    assert str(state_dir) not in plan.protect
    env = {"RESTIC_PASSWORD_FILE": str(tmp_path / "pw")}
    subprocess.run(
        [RESTIC or "restic", "init", "-q", "-r", str(tmp_path / "repo")],
        env=env,
        check=True,
        capture_output=True,
    )
    result = run_backup(plan, SubprocessRunner(), timeout=120, list_history=False)
    assert result.status == "ok" and not result.source_problems, result
    listed = subprocess.run(
        [RESTIC or "restic", "ls", "-r", str(tmp_path / "repo"), "latest"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    segment = next(Archive(state_dir).dir.glob("*.jsonl.gz")).name
    assert any(p.endswith(f"/access-log/{segment}") for p in listed)
    assert any(p.endswith("/report.txt") for p in listed)
    assert not any(p.endswith("/state.db") for p in listed)
