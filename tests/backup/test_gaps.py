"""Cancelled backups, the complete offline copy, the coverage window, the lazy listing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence

from backup_kit import Env, write_cli_config, write_tree

from backup.config import RepositoriesConfig, RepositoryConfig
from backup.coverage import coverage
from backup.model import RUN_TAG, Snapshot
from backup.night import run_backup
from backup.offline import DIRNAME, LABEL, offline_copy
from collectors.system.cancellable import CancellableRunner
from collectors.system.runner import CommandResult, SubprocessRunner
from common.schema import Duration


def _primary_only(env: Env) -> RepositoriesConfig:
    return RepositoriesConfig(
        primary=RepositoryConfig(url=str(env.root / "primary"), password_file=str(env.password_file))
    )


def test_a_cancelled_backup_stops_restic_cleanly_and_is_recorded_interrupted(env: Env) -> None:
    env.init_both()
    with open(env.source / "disk.img", "wb") as fh:  # sparse: restic reads 4 GiB of zeros
        fh.truncate(4 << 30)
    cancel = threading.Event()
    locks = env.root / "primary" / "locks"

    def cancel_once_restic_runs() -> None:
        end = time.monotonic() + 60
        while not any(locks.iterdir()) and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.3)
        cancel.set()

    threading.Thread(target=cancel_once_restic_runs, daemon=True).start()
    started = time.monotonic()
    plan = env.plan(repositories=_primary_only(env))
    result = run_backup(plan, CancellableRunner(cancel, grace=20), timeout=300, cancel=cancel)
    assert cancel.is_set() and time.monotonic() - started < 60
    assert result.interrupted and result.status == "failed"
    (outcome,) = result.repositories
    assert outcome.error_kind == "interrupted" and outcome.summary is None
    assert env.restic("primary").snapshots() == ()
    assert not any(locks.iterdir())  # SIGINT let restic remove its own lock
    assert result.as_dict()["interrupted"] is True


def test_the_cancellable_runner_kills_what_ignores_sigint_after_the_grace() -> None:
    cancel = threading.Event()
    runner = CancellableRunner(cancel, grace=0.5)
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    result = runner.run(("sh", "-c", "trap '' INT; sleep 30"), timeout=60)
    assert time.monotonic() - started < 10 and result.returncode == -9 and not result.timed_out
    # a command started after the event is set stops at once; without the event it runs
    assert runner.run(("sleep", "30"), timeout=60).returncode < 0
    assert CancellableRunner(threading.Event()).run(("true",), timeout=10).ok


def test_the_offline_copy_holds_every_snapshot_and_adds_only_new_ones_later(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    plan = env.plan(repositories=_primary_only(env))
    runs = [run_backup(plan, env.runner, timeout=120).run_id]
    media = env.root / "media"
    media.mkdir()
    first = offline_copy(plan, env.runner, to=str(media), media_id="DISC-A")
    assert (first.snapshots, first.copied, first.check_ok) == (1, 1, True)
    (env.source / "new.txt").write_text("新的\n")
    runs.append(run_backup(plan, env.runner, timeout=120).run_id)
    second = offline_copy(plan, env.runner, to=str(media), media_id="DISC-A", read_subset="50%")
    assert (second.snapshots, second.copied) == (2, 1)
    label = json.loads((media / DIRNAME / LABEL).read_text(encoding="utf-8"))
    source_ids = [s.id for s in env.restic("primary").snapshots()]
    assert [s["source_id"] for s in label["snapshots"]] == source_ids
    assert label["check"] == {"ok": True, "read_data_subset": "50%", "duration": label["check"]["duration"]}
    assert [p["snapshots"] for p in label["previous"]] == [1]
    on_media = env.restic("media", media / DIRNAME).snapshots()
    assert sorted(s.run_id for s in on_media) == sorted(runs)
    assert {s.original for s in on_media} == set(source_ids)


def _snap(run: str, when: float) -> Snapshot:
    return Snapshot(
        id=run * 8, short_id=run, time=when, paths=("/x",), hostname="h", tags=(f"{RUN_TAG}{run}",)
    )


def test_the_coverage_window_is_a_config_key(env: Env) -> None:
    day = 86400.0
    old, new = _snap("old", 0.0), _snap("new", 10 * day)
    listed = {"primary": [old, new], "secondary": [new]}
    assert env.plan().coverage_window == 35 * day  # the default still judges 10 days back
    assert coverage(listed, window=env.plan().coverage_window).missing == {"secondary": ("old",)}
    narrow = env.plan(coverage_window=Duration(7 * 86400))
    assert narrow.coverage_window == 7 * day
    assert coverage(listed, window=narrow.coverage_window).gap == 0


class _Counting(SubprocessRunner):
    """The real runner, counting the restic subcommands it starts."""

    def __init__(self) -> None:
        super().__init__()
        self.started: list[str] = []

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            **kw: object) -> CommandResult:  # fmt: skip
        self.started.append(argv[1])
        return super().run(argv, timeout=timeout, env=env, **kw)  # type: ignore[arg-type]


def test_the_nightly_run_starts_restic_once_per_backup_and_lists_only_when_asked(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    plan = env.plan(repositories=_primary_only(env))
    runner = _Counting()
    first = run_backup(plan, runner, timeout=120, list_history=False)
    assert runner.started == ["backup"] and first.coverage.gap == 0
    assert not first.repositories[0].history and len(first.repositories[0].snapshots) == 1
    runner.started.clear()
    second = run_backup(plan, runner, timeout=120)
    assert sorted(runner.started) == ["backup", "snapshots"]
    assert second.repositories[0].history and len(second.repositories[0].snapshots) == 2


def test_the_agent_lists_only_when_a_gap_is_suspected_and_records_an_interrupted_run(env: Env) -> None:
    from agent.actions.backup import do_backup, gap_suspected, outcome_of_run
    from agent.config import load_config
    from agent.state import State

    write_tree(env.source)
    env.init_mirror()
    loaded = load_config(str(write_cli_config(env)))
    state = State.open(loaded.state_dir)
    assert gap_suspected(state)  # nothing stored yet
    first = do_backup(loaded.config, state, loaded.state_dir, timeout=120)
    assert first.status == "ok" and all(o.history for o in first.repositories)
    assert not gap_suspected(state)
    second = do_backup(loaded.config, state, loaded.state_dir, timeout=120)
    assert second.status == "ok" and not any(o.history for o in second.repositories)
    record = state.snapshot().records.get("backup")
    assert record is not None
    assert [r["snapshot_count"] for r in record.payload["repositories"].values()] == [2, 2]
    cancel = threading.Event()
    cancel.set()
    third = do_backup(loaded.config, state, loaded.state_dir, timeout=120, cancel=cancel)
    outcome = outcome_of_run(third)
    assert third.interrupted and not outcome.success and outcome.error.startswith("interrupted")
    assert gap_suspected(state)  # the next night lists again
