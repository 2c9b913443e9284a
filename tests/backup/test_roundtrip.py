"""Dual backups with the real restic: round trips, distinct failures, coverage."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from backup_kit import Env, write_tree

from backup.night import run_backup
from backup.restore import resolve_snapshot, restore


def _restored_tree(target: Path, source: Path) -> dict[str, bytes]:
    top = target / str(source).lstrip("/")
    return {str(p.relative_to(top)): p.read_bytes() for p in top.rglob("*") if p.is_file()}


def test_each_repository_alone_restores_the_chinese_tree_byte_identical(env: Env) -> None:
    files = write_tree(env.source)
    env.init_both()
    result = run_backup(env.plan(), env.runner, timeout=120)
    assert result.status == "ok", result
    assert result.coverage.gap == 0
    for name in ("primary", "secondary"):
        restic = env.restic(name)
        target = env.root / f"restore-{name}"
        restore(restic, resolve_snapshot(restic, "latest"), str(target))
        assert _restored_tree(target, env.source) == files


def test_both_snapshots_carry_the_same_run_id_and_coverage_pairs_them(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    first = run_backup(env.plan(), env.runner, timeout=120)
    second = run_backup(env.plan(), env.runner, timeout=120)
    rows = second.coverage.rows
    assert [r.run_id for r in rows] == [first.run_id, second.run_id]
    for row in rows:
        assert row.snapshot_ids["primary"] and row.snapshot_ids["secondary"]
        assert row.snapshot_ids["primary"] != row.snapshot_ids["secondary"]


def test_a_missing_repository_is_reported_as_missing_and_never_initialised(env: Env) -> None:
    write_tree(env.source)
    env.restic("primary").init()
    result = run_backup(env.plan(), env.runner, timeout=120)
    outcome = {o.repository: o for o in result.repositories}
    assert outcome["primary"].status == "ok"
    assert outcome["secondary"].status == "failed"
    assert outcome["secondary"].error_kind == "repository_missing"
    assert not (env.root / "secondary").exists()
    assert result.status == "partial"
    assert result.coverage.missing == {"secondary": (result.run_id,)}


def test_a_wrong_password_is_reported_as_wrong_password(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    env.password_file.write_text("not the password\n")
    result = run_backup(env.plan(), env.runner, timeout=120)
    assert result.status == "failed"
    assert {o.error_kind for o in result.repositories} == {"wrong_password"}


def test_unreadable_source_files_make_the_run_partial_never_ok(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    # Root reads any mode-000 file, so make one restic truly cannot read: a write-only sysfs
    # attribute bind-mounted into the source tree (open() fails with EACCES even for root).
    victim = env.source / "不可读.dat"
    victim.write_bytes(b"")
    attr = Path("/sys/bus/pci/rescan")
    mounted = (
        attr.exists()
        and subprocess.run(["mount", "--bind", str(attr), str(victim)], check=False).returncode == 0
    )
    if not mounted:
        pytest.skip("cannot bind-mount an unreadable file here (needs root and /sys)")
    try:
        with pytest.raises(OSError):
            victim.read_bytes()
        result = run_backup(env.plan(), env.runner, timeout=120)
    finally:
        subprocess.run(["umount", str(victim)], check=True)
    assert result.status == "partial"
    for outcome in result.repositories:
        assert outcome.status == "partial"
        assert outcome.summary is not None and outcome.summary.snapshot_id
        assert any(str(victim) in item for item in outcome.summary.unreadable)


def test_a_failing_pre_hook_fails_the_run_visibly_and_skips_the_backup(env: Env) -> None:
    from backup.config import HookConfig, HooksConfig

    write_tree(env.source)
    env.init_both()
    marker = env.root / "post-ran"
    hooks = HooksConfig(
        pre=(HookConfig(argv=("sh", "-c", "echo dump failed >&2; exit 4")),),
        post=(HookConfig(argv=("touch", str(marker))),),
    )
    result = run_backup(env.plan(hooks=hooks), env.runner, timeout=120)
    assert result.status == "failed"
    assert result.hooks[0].ok is False and "dump failed" in result.hooks[0].message
    assert marker.exists()
    assert env.restic("primary").snapshots() == ()


def test_a_passing_hook_sees_the_run_id(env: Env) -> None:
    from backup.config import HookConfig, HooksConfig

    write_tree(env.source)
    env.init_both()
    out = env.source / "dump.txt"
    hooks = HooksConfig(pre=(HookConfig(argv=("sh", "-c", f'echo "$HOSTWARD_RUN_ID" > "{out}"')),))
    result = run_backup(env.plan(hooks=hooks), env.runner, timeout=120)
    assert result.status == "ok"
    assert out.read_text().strip() == result.run_id


def test_the_password_reaches_restic_by_environment_never_argv(env: Env) -> None:
    seen: list[tuple[tuple[str, ...], dict[str, str]]] = []
    real = env.runner

    class Recording:
        def run(self, argv, **kw):  # type: ignore[no-untyped-def]
            seen.append((tuple(argv), dict(kw.get("env") or {})))
            return real.run(argv, **kw)

    os.environ["HW_TEST_RESTIC_PW"] = "secret-in-env"
    try:
        from backup.restic import Repository, Restic

        repo = Repository("primary", str(env.root / "p"), password_env="HW_TEST_RESTIC_PW")
        restic = Restic(repo, Recording(), cache_dir=str(env.cache))  # type: ignore[arg-type]
        restic.init()
        assert restic.snapshots() == ()
    finally:
        del os.environ["HW_TEST_RESTIC_PW"]
    for argv, child_env in seen:
        assert not any("secret-in-env" in a for a in argv)
        assert child_env["RESTIC_PASSWORD"] == "secret-in-env"
        assert str(env.root / "p") not in argv


def test_a_pre_hook_past_its_timeout_fails_the_run(env: Env) -> None:
    from backup.config import HookConfig, HooksConfig
    from common.schema import Duration

    env.init_both()
    hooks = HooksConfig(pre=(HookConfig(argv=("sleep", "30"), timeout=Duration(0.5)),))
    started = time.monotonic()
    result = run_backup(env.plan(hooks=hooks), env.runner, timeout=120)
    assert time.monotonic() - started < 10
    assert result.status == "failed" and result.hooks[0].message == "timed out"


def test_restic_past_its_timeout_is_reported_as_a_timeout(env: Env) -> None:
    from backup.errors import ResticTimeout
    from backup.restic import Restic

    env.init_both()
    slow = Restic(env.repo("primary"), env.runner, cache_dir=str(env.cache), timeout=0.05)
    with pytest.raises(ResticTimeout, match="timed out"):
        slow.snapshots()


def test_a_path_with_glob_characters_restores_exactly_that_file(env: Env) -> None:
    write_tree(env.source)
    odd = env.source / "报告[2026]*.txt"
    odd.write_bytes(b"odd name\n")
    (env.source / "报告2.txt").write_bytes(b"must not come back\n")
    env.init_both()
    assert run_backup(env.plan(), env.runner, timeout=120).status == "ok"
    restic = env.restic("primary")
    target = env.root / "one-file"
    restore(restic, resolve_snapshot(restic, "latest"), str(target), paths=[str(odd)])
    got = [p for p in target.rglob("*") if p.is_file()]
    assert [p.name for p in got] == [odd.name]
    assert got[0].read_bytes() == b"odd name\n"
