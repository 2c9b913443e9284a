"""`hostward backup ...` end to end with the real restic: exit codes, state, journal, metrics, page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from backup_kit import Env, write_cli_config, write_tree
from prometheus_client import CollectorRegistry, generate_latest
from testkit import put_json

from agent.cli import main
from agent.exporter.families_backup import backup_families
from agent.state import State
from agent.web.section_backup import backup_section


def hostward(*argv: str) -> int:
    """The real CLI entry point, in this process."""
    return main(list(argv))


def _journal(env: Env, kind: str) -> list[dict]:  # type: ignore[type-arg]
    path = env.root / "state" / "journal.jsonl"
    entries = (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )
    return [e for e in entries if e["kind"] == kind]


class _Registry:
    def __init__(self, state: State) -> None:
        self.state = state

    def collect(self):  # type: ignore[no-untyped-def]
        return backup_families(self.state.snapshot())


def test_backup_init_creates_missing_repositories_only_when_asked(env: Env) -> None:
    config = str(write_cli_config(env))
    assert hostward("backup", "run", "-c", config) == 1  # nothing there: failed, not created
    assert not (env.root / "primary").exists()
    assert hostward("backup", "init", "-c", config) == 0
    assert (env.root / "primary" / "config").exists() and (env.root / "secondary" / "config").exists()
    assert hostward("backup", "init", "-c", config) == 0  # idempotent
    assert [e["data"]["repository"] for e in _journal(env, "backup.init")] == ["primary", "secondary"]


def test_backup_run_stores_figures_journals_and_exports_clean_metrics(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    assert hostward("backup", "run", "-c", config) == 0
    assert "coverage: both repositories hold every run" in capsys.readouterr().out
    state = State.open(env.root / "state")
    record = state.snapshot().records.get("backup")
    assert record is not None
    for name in ("primary", "secondary"):
        repo = record.payload["repositories"][name]
        assert repo["status"] == "ok" and repo["snapshot_count"] == 1 and repo["coverage_gap"] == 0
        assert repo["files"] == 5 and repo["bytes_added"] > 0
    assert _journal(env, "backup.run")[0]["data"]["status"] == "ok"
    registry = CollectorRegistry()
    registry.register(_Registry(state))  # type: ignore[arg-type]
    text = generate_latest(registry).decode()
    assert 'hostward_backup_snapshots{repository="secondary"} 1.0' in text
    assert 'hostward_backup_status{repository="primary"} 1.0' in text
    if shutil.which("promtool"):
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    page = backup_section(state.snapshot(), "zh")
    assert 'data-repository="primary"' in page and "成功" in page and "离线副本" in page
    assert "Backups" in backup_section(state.snapshot(), "en")


def test_backup_run_exits_3_when_one_repository_is_missing_and_1_on_a_wrong_password(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    shutil.rmtree(env.root / "secondary")
    assert hostward("backup", "run", "-c", config) == 3
    state = State.open(env.root / "state")
    record = state.snapshot().records.get("backup")
    assert record is not None
    assert record.payload["repositories"]["secondary"]["error_kind"] == "repository_missing"
    assert state.snapshot().jobs["backup"].last.success is False
    env.password_file.write_text("wrong\n")
    assert hostward("backup", "run", "-c", config) == 1


def test_backup_snapshots_shows_both_sides_and_exits_3_on_a_gap(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    assert hostward("backup", "run", "-c", config) == 0
    capsys.readouterr()
    assert hostward("backup", "snapshots", "-c", config, "--json") == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["coverage"]["gap"] == 0
    assert all(run["snapshots"]["primary"] and run["snapshots"]["secondary"] for run in listing["runs"])
    # a snapshot forgotten from the secondary only is a gap
    secondary = env.restic("secondary")
    secondary.run(("forget", secondary.snapshots()[0].id))
    assert hostward("backup", "snapshots", "-c", config) == 3
    assert "coverage gap: secondary" in capsys.readouterr().out


def test_restore_refuses_live_data_dry_runs_and_journals_who_what_where(env: Env) -> None:
    files = write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    assert hostward("backup", "run", "-c", config) == 0
    # restoring into / would overwrite the live source: refused, and journaled as refused
    assert hostward("backup", "restore", "-c", config, "--snapshot", "latest", "--target", "/") == 1
    target = env.root / "恢复"
    assert (
        hostward(
            "backup", "restore", "-c", config, "--snapshot", "latest", "--target", str(target), "--dry-run"
        )
        == 0
    )
    assert not target.exists() or not any(target.iterdir())
    wanted = str(env.source / "病历")
    assert (
        hostward(
            "backup",
            "restore",
            "-c",
            config,
            "--snapshot",
            "latest",
            "--from",
            "secondary",
            "--path",
            wanted,
            "--target",
            str(target),
        )
        == 0
    )
    top = target / str(env.source).lstrip("/")
    got = {str(p.relative_to(top)): p.read_bytes() for p in top.rglob("*") if p.is_file()}
    assert got == {k: v for k, v in files.items() if k.startswith("病历/")}
    # the same target again would overwrite what is there now
    assert hostward("backup", "restore", "-c", config, "--snapshot", "latest", "--target", str(target)) == 1
    entries = [e["data"] for e in _journal(env, "backup.restore")]
    assert [e["status"] for e in entries] == ["refused", "dry_run", "ok", "refused"]
    done = entries[2]
    assert done["from"] == "secondary" and done["paths"] == [wanted] and done["target"] == str(target)
    assert done["files"] == 2 and done["snapshot_id"] and "uid" in done["who"]


def test_drill_passes_then_fails_when_the_live_file_differs_from_an_unchanged_looking_copy(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    assert hostward("backup", "run", "-c", config) == 0
    assert hostward("backup", "drill", "-c", config) == 0
    state = State.open(env.root / "state")
    record = state.snapshot().records.get("backup")
    assert record is not None
    drill = record.payload["repositories"]["primary"]["drill"]
    assert drill["ok"] is True and drill["files"] == 5 and Path(drill["report"]).exists()
    # same size and mtime, other content: the restored file no longer matches the live one
    victim = env.source / "plain" / "readme.txt"
    st = victim.stat()
    victim.write_bytes(b"HELLO\n")
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert hostward("backup", "drill", "-c", config, "--from", "primary") == 1
    record = State.open(env.root / "state").snapshot().records.get("backup")
    assert record is not None
    assert "live_differs" in record.payload["repositories"]["primary"]["drill"]["error"]


def test_verify_rotates_the_data_slice_and_prune_waits_for_a_passing_check(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    assert hostward("backup", "run", "-c", config) == 0
    assert hostward("backup", "prune", "-c", config) == 1  # never checked: not pruned
    assert hostward("backup", "verify", "-c", config) == 0
    assert hostward("backup", "verify", "-c", config) == 0
    record = State.open(env.root / "state").snapshot().records.get("backup")
    assert record is not None
    assert record.payload["repositories"]["primary"]["check"]["subset"] == "2/30"
    assert record.payload["repositories"]["primary"]["check"]["size_bytes"] > 200_000
    assert hostward("backup", "prune", "-c", config) == 0


def test_offline_copy_is_verified_labelled_and_its_age_exported(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    assert hostward("backup", "run", "-c", config) == 0
    assert (
        hostward(
            "backup", "offline", "-c", config, "--to", str(env.root / "no-such-media"), "--media-id", "DISC-1"
        )
        == 1
    )
    media = env.root / "media"
    media.mkdir()
    assert hostward("backup", "offline", "-c", config, "--to", str(media), "--media-id", "DISC-2026-11") == 0
    label = json.loads((media / "hostward-offline" / "MEDIA.json").read_text(encoding="utf-8"))
    assert label["media_id"] == "DISC-2026-11"
    state = State.open(env.root / "state")
    names = {m.name: m for m in backup_families(state.snapshot(), now=lambda: label["time"] + 86400)}
    assert names["hostward_backup_offline_copy_age_seconds"].samples[0].value == pytest.approx(86400)


def test_the_scheduled_backup_job_is_partial_when_a_repository_is_missing_and_absent_when_unconfigured(
    env: Env,
) -> None:
    import logging
    import threading
    import time

    from agent.actions.backup import backup_job
    from agent.actions.base import JobContext
    from agent.config import load_config
    from agent.config.schema import Config
    from agent.jobs import JOBS

    specs = {spec.name: spec for spec in JOBS}
    assert {"backup", "backup_verify", "backup_prune", "backup_drill"} <= set(specs)
    assert specs["backup"].schedule(Config()) is None  # an office PC without backups configured
    write_tree(env.source)
    shutil.copytree(env.template / "primary", env.root / "primary")
    loaded = load_config(str(write_cli_config(env)))
    assert specs["backup"].schedule(loaded.config) is not None
    state = State.open(loaded.state_dir)
    ctx = JobContext(
        loaded.config,
        state,
        loaded.state_dir,
        time.monotonic() + 120,
        threading.Event(),
        logging.getLogger("test"),
    )
    outcome = backup_job(ctx)
    assert outcome.partial is True and "secondary: repository_missing" in outcome.error
    record = state.snapshot().records.get("backup")
    assert record is not None and record.payload["repositories"]["primary"]["status"] == "ok"


def test_the_backup_section_escapes_what_it_shows_and_secrets_stay_out_of_state_journal_and_metrics(
    env: Env,
) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    assert hostward("backup", "run", "-c", config) == 0
    state = State.open(env.root / "state")
    secret = env.password_file.read_text().strip()
    registry = CollectorRegistry()
    registry.register(_Registry(state))  # type: ignore[arg-type]
    journal_text = (env.root / "state" / "journal.jsonl").read_text(encoding="utf-8")
    record = state.snapshot().records.get("backup")
    assert record is not None
    for text in (journal_text, json.dumps(record.payload), generate_latest(registry).decode()):
        assert secret not in text
    payload = json.loads(json.dumps(record.payload))
    payload["repositories"]["primary"]["error"] = "<script>alert(1)</script>"
    put_json(state, "backup", payload)
    page = backup_section(state.snapshot(), "en")
    assert "<script>" not in page and "&lt;script&gt;" in page
