"""One path per operation: `hostward backup prune|verify|offline` go through the same actions as
the daemon's jobs, so they leave the same record (real restic, two local repositories)."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

from backup_kit import Env, write_cli_config, write_tree

from agent.actions.backup import prune_job, verify_job
from agent.actions.base import JobContext
from agent.cli import main
from agent.config import load_config
from agent.records.backup import BackupRecord, RepoBackup
from agent.state import State


def _context(config: Path, state: State) -> JobContext:
    loaded = load_config(str(config))
    return JobContext(loaded.config, state, loaded.state_dir, time.monotonic() + 300, threading.Event(),
                      logging.getLogger("test"))  # fmt: skip


def _repos(env: Env) -> dict[str, RepoBackup]:
    state = State.open(env.root / "state")
    stored = state.record(BackupRecord)
    state.close()
    assert stored is not None
    return dict(stored.record.repositories)


def _journal(env: Env, kind: str) -> list[dict]:  # type: ignore[type-arg]
    lines = (env.root / "state" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [e["data"] for e in map(json.loads, lines) if e["kind"] == kind]


def test_cli_prune_and_verify_leave_the_records_the_scheduled_jobs_leave(env: Env) -> None:
    write_tree(env.source, size=20_000)
    env.init_both()
    config = write_cli_config(env)
    assert main(["backup", "run", "-c", str(config)]) == 0

    assert main(["backup", "verify", "-c", str(config)]) == 0
    by_cli = _repos(env)
    state = State.open(env.root / "state")
    assert verify_job(_context(config, state)).success
    state.close()
    by_job = _repos(env)
    for name in ("primary", "secondary"):
        cli, job = by_cli[name].check, by_job[name].check
        assert cli is not None and job is not None, name
        assert cli.ok and job.ok and cli.subset != job.subset  # each reads the next slice
        assert replace(cli, time=job.time, subset=job.subset, duration=job.duration) == job

    assert main(["backup", "prune", "-c", str(config)]) == 0
    by_cli = _repos(env)
    state = State.open(env.root / "state")
    assert prune_job(_context(config, state)).success
    state.close()
    by_job = _repos(env)
    for name in ("primary", "secondary"):
        cli, job = by_cli[name].prune, by_job[name].prune
        assert cli is not None and job is not None, name
        assert cli.status == "ok" and replace(cli, time=job.time) == job
        assert by_job[name].check == by_cli[name].check  # the prune left the check figures alone
    assert len(_journal(env, "backup.prune")) == 2  # one entry per prune, CLI or job


def test_cli_offline_copy_is_stored_and_journaled_by_the_action(env: Env, tmp_path: Path) -> None:
    write_tree(env.source, size=20_000)
    env.init_both()
    config = write_cli_config(env)
    assert main(["backup", "run", "-c", str(config)]) == 0
    media = tmp_path / "media"
    media.mkdir()
    assert main(["backup", "offline", "-c", str(config), "--to", str(media), "--media-id", "M-7"]) == 0
    state = State.open(env.root / "state")
    stored = state.record(BackupRecord)
    state.close()
    assert stored is not None and stored.record.offline is not None
    assert stored.record.offline.media_id == "M-7" and stored.record.repositories["primary"].status == "ok"
    assert [(e["media_id"], e["status"]) for e in _journal(env, "backup.offline")] == [("M-7", "ok")]
    gone = str(tmp_path / "gone")
    assert main(["backup", "offline", "-c", str(config), "--to", gone, "--media-id", "M-8"]) == 1
    assert [(e["media_id"], e["status"]) for e in _journal(env, "backup.offline")][-1] == ("M-8", "failed")
