"""Killed runs, damaged packs, full disks and locks, with the real restic."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest
from backup_kit import Env, cli_argv, hold_lock, restic_children, run_cli, write_cli_config, write_tree

from backup.config import RepositoriesConfig, RepositoryConfig
from backup.errors import RepositoryLocked
from backup.locks import settle_locks
from backup.night import run_backup
from backup.restore import resolve_snapshot, restore
from backup.verify import run_verify


def _check_clean(env: Env) -> None:
    result = run_verify(env.plan(), env.runner, parts=1, previous={}, timeout=120)
    assert result.ok, result.checks


def _slow(env: Env, kib: int = 400) -> RepositoriesConfig:
    pw = str(env.password_file)
    return RepositoriesConfig(
        primary=RepositoryConfig(url=str(env.root / "primary"), password_file=pw, limit_upload=kib),
        secondary=RepositoryConfig(url=str(env.root / "secondary"), password_file=pw, limit_upload=kib),
    )


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_kill_9_of_restic_mid_backup_leaves_no_snapshot_and_the_next_run_succeeds(env: Env) -> None:
    write_tree(env.source, size=4_000_000)
    env.init_both()
    box: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: box.update(r=run_backup(env.plan(repositories=_slow(env)), env.runner, timeout=120))
    )
    worker.start()
    _wait_for(lambda: len(restic_children(os.getpid())) == 2)
    time.sleep(1.5)  # both are uploading now
    for proc in restic_children(os.getpid()):
        proc.send_signal(signal.SIGKILL)
    worker.join(60)
    killed = box["r"]
    assert killed.status == "failed"  # type: ignore[attr-defined]
    assert {o.error_kind for o in killed.repositories} == {"interrupted"}  # type: ignore[attr-defined]
    assert list((env.root / "primary" / "locks").iterdir()), "the killed restic left its lock"
    after = run_backup(env.plan(), env.runner, timeout=120)
    assert after.status == "ok"
    for name in ("primary", "secondary"):
        runs = {s.run_id for s in env.restic(name).snapshots()}
        assert runs == {after.run_id}
    _check_clean(env)  # the stale locks of the dead restic are cleared, check passes


def test_kill_9_of_the_hostward_process_mid_backup_kills_restic_too(env: Env) -> None:
    write_tree(env.source, size=4_000_000)
    env.init_both()
    config = write_cli_config(env, limit_upload=400)
    proc = subprocess.Popen(
        cli_argv("backup", "run", "-c", str(config)),
        cwd=str(Path(__file__).parents[2]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(lambda: len(restic_children(proc.pid)) == 2)
    children = restic_children(proc.pid)
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, "restic outlived the agent"
    config = write_cli_config(env)  # the same, unthrottled
    second = run_cli("backup", "run", "-c", str(config))
    assert second.returncode == 0, second.stdout + second.stderr
    for name in ("primary", "secondary"):
        assert len(env.restic(name).snapshots()) == 1
    _check_clean(env)


def test_a_flipped_byte_in_a_primary_pack_is_caught_and_the_secondary_still_restores(env: Env) -> None:
    files = write_tree(env.source)
    env.init_both()
    assert run_backup(env.plan(), env.runner, timeout=120).status == "ok"
    packs = sorted((env.root / "primary" / "data").rglob("*"), key=lambda p: p.stat().st_size)
    pack = [p for p in packs if p.is_file()][-1]  # the biggest pack holds file data
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.write_bytes(bytes(data))
    result = run_verify(env.plan(), env.runner, parts=1, previous={}, timeout=120)
    by_repo = {c.repository: c for c in result.checks}
    assert by_repo["primary"].ok is False
    assert by_repo["primary"].problems
    assert by_repo["secondary"].ok is True
    restic = env.restic("secondary")
    target = env.root / "from-secondary"
    restore(restic, resolve_snapshot(restic, "latest"), str(target))
    top = target / str(env.source).lstrip("/")
    assert {str(p.relative_to(top)): p.read_bytes() for p in top.rglob("*") if p.is_file()} == files


def test_a_full_disk_on_one_repository_keeps_its_old_snapshots_and_the_other_completes(env: Env) -> None:
    small = env.root / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(small)], check=False).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        env.init_both()
        primary = small / "primary"
        subprocess.run(["cp", "-a", str(env.root / "primary"), str(primary)], check=True)
        pw = str(env.password_file)
        repos = RepositoriesConfig(
            primary=RepositoryConfig(url=str(primary), password_file=pw),
            secondary=RepositoryConfig(url=str(env.root / "secondary"), password_file=pw),
        )
        write_tree(env.source, size=10_000)
        first = run_backup(env.plan(repositories=repos), env.runner, timeout=120)
        assert first.status == "ok"
        (env.source / "大文件.bin").write_bytes(os.urandom(6_000_000))
        second = run_backup(env.plan(repositories=repos), env.runner, timeout=120)
        outcome = {o.repository: o for o in second.repositories}
        assert second.status == "partial"
        assert outcome["primary"].status == "failed"
        assert outcome["primary"].error_kind == "no_space"
        assert outcome["secondary"].status == "ok"
        from backup.restic import Repository, Restic

        restic = Restic(Repository("primary", str(primary), pw), env.runner, cache_dir=str(env.cache))
        assert [s.run_id for s in restic.snapshots()] == [first.run_id]
        assert restic.check().ok
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_a_live_lock_makes_an_exclusive_operation_wait_then_fail_naming_the_owner(env: Env) -> None:
    env.init_both()
    holder = hold_lock(env, "primary")
    try:
        started = time.monotonic()
        with pytest.raises(RepositoryLocked, match=f"live PID {holder.pid}"):
            settle_locks(env.restic("primary"), wait=1.5, exclusive=True)
        assert time.monotonic() - started >= 1.5
        # a backup takes a non-exclusive lock and may run beside it
        assert settle_locks(env.restic("primary"), wait=0, exclusive=False).removed == ()
    finally:
        holder.kill()
        holder.wait()
    report = settle_locks(env.restic("primary"), wait=5, exclusive=True)
    assert [lk.pid for lk in report.removed] == [holder.pid]
    assert not list((env.root / "primary" / "locks").iterdir())


def test_a_lock_of_a_dead_process_on_another_host_is_left_alone(env: Env) -> None:
    env.init_both()
    holder = hold_lock(env, "primary")
    holder.kill()
    holder.wait()
    with pytest.raises(RepositoryLocked, match=f"locked by PID {holder.pid} on "):
        settle_locks(env.restic("primary"), wait=0.5, exclusive=True, hostname="some-other-host")
    assert list((env.root / "primary" / "locks").iterdir())
