"""The mirrored secondary with the real restic: same snapshot ids, verified copies, fallbacks."""

from __future__ import annotations

import os
import shutil

import pytest
from backup_kit import Env, write_tree

from backup.config import RepositoriesConfig, RepositoryConfig, RetentionConfig
from backup.errors import RepositoryMissing
from backup.mirror import STATE_DIR, MirrorMismatch, create_mirror, is_mirror_of, mirror
from backup.night import run_backup
from backup.restore import resolve_snapshot, restore
from backup.retention import run_prune


def test_the_secondary_receives_the_primarys_snapshot_and_restores_on_its_own(env: Env) -> None:
    files = write_tree(env.source)
    env.init_mirror()
    result = run_backup(env.plan(), env.runner, timeout=120)
    assert result.status == "ok" and result.coverage.gap == 0
    assert [o.method for o in result.repositories] == ["backup", "mirror"]
    primary, secondary = env.restic("primary").snapshots(), env.restic("secondary").snapshots()
    assert [s.id for s in primary] == [s.id for s in secondary] and len(primary) == 1
    assert secondary[0].run_id == result.run_id
    assert env.restic("secondary").check().ok
    # restore from the secondary alone: the primary is gone
    (env.root / "primary").rename(env.root / "primary-gone")
    target = env.root / "restored"
    sec = env.restic("secondary")
    restore(sec, resolve_snapshot(sec, "latest"), str(target), timeout=120)
    for rel, data in files.items():
        assert (target / str(env.source).lstrip("/") / rel).read_bytes() == data


def test_a_night_without_a_primary_snapshot_gives_the_secondary_its_own_backup(env: Env) -> None:
    write_tree(env.source)
    env.init_mirror()
    wrong = env.root / "wrong.pass"
    wrong.write_text("not the password\n")
    wrong.chmod(0o600)
    repos = RepositoriesConfig(
        primary=RepositoryConfig(url=str(env.root / "primary"), password_file=str(wrong)),
        secondary=RepositoryConfig(url=str(env.root / "secondary"), password_file=str(env.password_file)),
    )
    result = run_backup(env.plan(repositories=repos), env.runner, timeout=120)
    first, second = result.repositories
    assert first.status == "failed" and first.error_kind == "wrong_password"
    assert second.status == "ok" and second.method == "fallback"
    assert result.status == "partial" and result.coverage.missing == {"primary": (result.run_id,)}
    assert [s.run_id for s in env.restic("secondary").snapshots()] == [result.run_id]
    # the next night, with the primary back: both hold that night's snapshot again
    again = run_backup(env.plan(), env.runner, timeout=120)
    assert [o.method for o in again.repositories] == ["backup", "mirror"]
    assert {s.run_id for s in env.restic("secondary").snapshots()} == {result.run_id, again.run_id}
    assert env.restic("secondary").check().ok


def test_a_damaged_file_of_the_primary_is_refused_by_the_mirror(env: Env) -> None:
    write_tree(env.source)
    env.init_mirror()
    assert env.restic("primary").backup((str(env.source),)).status == "ok"
    packs = sorted((env.root / "primary" / "data").rglob("*"), key=lambda p: p.stat().st_size)
    pack = [p for p in packs if p.is_file()][-1]
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0x01
    pack.write_bytes(bytes(data))
    with pytest.raises(MirrorMismatch, match="does not match its SHA-256 name"):
        mirror(str(env.root / "primary"), str(env.root / "secondary"))
    relative = pack.relative_to(env.root / "primary")
    assert not (env.root / "secondary" / relative).exists()
    assert not list((env.root / "secondary" / STATE_DIR).glob("*.tmp"))


def test_only_a_local_secondary_with_the_primarys_config_is_mirrored(env: Env) -> None:
    env.init_both()  # initialised on their own: two independent backups (tests in test_roundtrip)
    assert not is_mirror_of(str(env.root / "primary"), str(env.root / "secondary"))
    assert env.plan().mirror_pair() is None
    assert not is_mirror_of(str(env.root / "primary"), "sftp:backup@127.0.0.1:/x")
    shutil.rmtree(env.root / "secondary")
    create_mirror(str(env.root / "primary"), str(env.root / "secondary"))
    assert is_mirror_of(str(env.root / "primary"), "local:" + str(env.root / "secondary"))
    assert env.plan().mirror_pair() is not None
    assert env.plan(secondary_mode="independent").mirror_pair() is None
    with pytest.raises(RepositoryMissing):  # an unmounted disk: never created
        create_mirror(str(env.root / "primary"), str(env.root / "unmounted" / "disk" / "repo"))


def test_prune_on_the_primary_is_mirrored_and_the_secondary_checks_clean(env: Env) -> None:
    write_tree(env.source, size=600_000)
    env.init_mirror()
    assert run_backup(env.plan(), env.runner, timeout=120).status == "ok"
    (env.source / "病历" / "李四 报告.pdf").unlink()  # its packs become unused after forget
    (env.source / "new.bin").write_bytes(os.urandom(300_000))
    last = run_backup(env.plan(), env.runner, timeout=120)
    policy = RetentionConfig(keep_within="", keep_daily=1, keep_yearly=0)
    mirrored = {p.name for p in (env.root / "secondary" / "data").rglob("*") if p.is_file()}
    results = run_prune(env.plan(), env.runner, policy, last_check_ok={"primary": True}, timeout=120)
    assert [(r.repository, r.status) for r in results] == [("primary", "ok"), ("secondary", "ok")]
    primary, secondary = env.root / "primary", env.root / "secondary"
    assert [s.run_id for s in env.restic("secondary").snapshots()] == [last.run_id]
    packs = {p.relative_to(primary) for p in (primary / "data").rglob("*") if p.is_file()}
    assert {p.relative_to(secondary) for p in (secondary / "data").rglob("*") if p.is_file()} == packs
    assert env.restic("secondary").check().ok
    assert mirrored - {p.name for p in packs}  # the primary's prune dropped packs: so did the mirror
