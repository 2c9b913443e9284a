"""Full disaster-recovery drills (`hostward backup drill --full`, ROOM-2) with the real restic.

One module-wide site (two real local repositories, one backup of a small tree holding a GBK
file name) serves every test: a good drill passes and records its figures, a target without
room is refused before anything is written, a flipped byte in a pack fails the drill. The
corruption test goes last and touches only the secondary.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from backup_kit import PASSWORD, Env, write_cli_config, write_tree
from testkit import put_json, put_raw

from agent.cli import main
from agent.config import load_config
from agent.drill_full_record import FullDrillView, full_drills
from agent.exporter.families_backup import backup_families
from agent.records.base import StateError
from agent.records.drill_full import FullDrillRecord
from agent.report.daily_html import render_daily
from agent.state import State
from agent.web.section_backup import backup_section
from backup.drill_full import check_room, compare_tree, go_spelling, needed_bytes
from backup.errors import NoSpace
from backup.model import Node
from collectors.system.runner import SubprocessRunner

GBK_NAME = "检验报告".encode("gbk") + b".txt"  # a name an old Windows tool wrote: not UTF-8


@dataclass
class Site:
    env: Env
    config: str
    state_dir: Path
    files: dict[str, int]  # restic's spelling of each source file -> size

    def views(self) -> dict[str, FullDrillView]:
        state = State.open(self.state_dir)
        try:
            return full_drills(state.snapshot())
        finally:
            state.close()

    def metrics(self) -> dict[str, dict[str, float]]:
        state = State.open(self.state_dir)
        try:
            families = list(backup_families(state.snapshot()))
        finally:
            state.close()
        return {f.name: {s.labels.get("repository", ""): s.value for s in f.samples} for f in families}

    def drill(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["backup", "drill", "--full", "-c", self.config, *args])
        return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def site(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("drillfull")
    env = Env(root, root / "源数据", root / "restic.pass", root / "cache", SubprocessRunner())
    env.template = template
    env.source.mkdir()
    env.password_file.write_text(PASSWORD)
    env.password_file.chmod(0o600)
    env.init_both()
    written = write_tree(env.source, size=2_000_000)
    gbk = os.path.join(os.fsencode(env.source), GBK_NAME)
    with open(gbk, "wb") as fh:
        fh.write(b"x" * 4096)
    files = {f"{env.source}/{rel}": len(data) for rel, data in written.items()}
    files[go_spelling(gbk)] = 4096
    state_dir = root / "state"
    config = str(write_cli_config(env, state_dir=state_dir))
    assert main(["backup", "run", "-c", config]) == 0
    yield Site(env, config, state_dir, files)


def _tree_digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file() and "locks" not in p.parts
    }


def test_a_full_drill_restores_and_verifies_every_file_records_its_figures_and_leaves_nothing_behind(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = site.drill(capsys)
    assert code == 0, out
    assert out.count("通过 ok") == 2 and "projected full restore" in out, out
    views = site.views()
    assert sorted(views) == ["primary", "secondary"]
    total = sum(site.files.values())
    for name, view in views.items():
        last = view.last
        assert last.ok and view.last_ok == last, (name, last)
        assert (last.files, last.bytes) == (len(site.files), total), (name, last)
        assert last.duration > 0 and last.throughput == pytest.approx(total / last.duration)
        # today's size comes from the last backup (restic's total of the snapshot's files)
        assert (view.size_now, view.size_source) == (total, "last_backup")
        assert view.projected_seconds == pytest.approx(total / last.throughput)
    metrics = site.metrics()
    assert metrics["hostward_backup_drill_full_success"] == {"primary": 1.0, "secondary": 1.0}
    assert metrics["hostward_backup_drill_full_bytes"] == {"primary": total, "secondary": total}
    assert metrics["hostward_backup_full_restore_projected_seconds"]["primary"] == pytest.approx(
        views["primary"].projected_seconds
    )
    assert os.listdir(site.state_dir / "drill-full") == []  # the scratch trees are gone
    state = State.open(site.state_dir)
    try:  # counted as the scheduled job's run: enabling the schedule does not drill again at once
        assert state.snapshot().jobs["backup_drill_full"].last.success
    finally:
        state.close()
    journal = (site.state_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in journal if '"backup.drill_full"' in line]
    journaled = [(e["data"]["repository"], e["data"]["ok"]) for e in entries]
    assert journaled == [("primary", True), ("secondary", True)]
    state = State.open(site.state_dir)
    try:  # the status page, and the daily inspection record that carries the same section
        page = backup_section(state.snapshot(), "en")
        daily = render_daily(load_config(site.config).config, state, date.today(), "zh", True)
    finally:
        state.close()
    assert 'id="backup-drill-full"' in page and "projected full restore" in page
    assert 'id="backup-drill-full"' in daily and "预计完整恢复" in daily


def test_a_target_without_room_for_the_snapshot_is_refused_before_anything_is_written(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (the room check itself is tested below)")
    small = site.env.root / "small-disk"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], check=True)
    try:
        before = _tree_digest(site.env.root / "primary")
        code, out = site.drill(capsys, "--repo", "primary", "--target", str(small / "drill"))
        assert code == 1 and "error [no_space]" in out and "演练目标空间不足" in out, out
        assert str(needed_bytes(sum(site.files.values()))) in out
        assert [p.name for p in small.iterdir()] == ["drill"] and not any((small / "drill").iterdir())
        assert _tree_digest(site.env.root / "primary") == before  # the repository untouched
        view = site.views()["primary"]
        assert not view.last.ok and view.last.error_kind == "no_space"
        assert view.last_ok is not None  # the last passing drill is still what the projection uses
        assert site.metrics()["hostward_backup_drill_full_success"]["primary"] == 0.0
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_a_target_inside_the_backed_up_data_is_refused(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = site.drill(capsys, "--repo", "primary", "--target", str(site.env.source / "scratch"))
    assert code == 1 and "error [refused]" in out and "演练目标与备份源重叠" in out, out
    assert not (site.env.source / "scratch").exists()


def test_target_and_snapshot_without_full_are_refused(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["backup", "drill", "--target", str(site.env.root / "x"), "-c", site.config]) == 1
    assert "--full" in capsys.readouterr().err and not (site.env.root / "x").exists()


def test_the_room_check_refuses_a_size_beyond_the_free_space_and_accepts_one_within(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(NoSpace, match="needs"):
        check_room("primary", str(tmp_path), free)  # the data fits, its margin does not
    check_room("primary", str(tmp_path), 0)


def test_the_tree_comparison_names_a_missing_a_short_and_an_extra_file(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "ok.txt").write_bytes(b"12345")
    (tmp_path / "d" / "short.txt").write_bytes(b"12")
    (tmp_path / "d" / "extra.txt").write_bytes(b"")
    with open(os.path.join(os.fsencode(tmp_path), b"d", GBK_NAME), "wb") as fh:
        fh.write(b"abc")
    listed = [
        Node("/d/ok.txt", "file", 5, 0.0),
        Node("/d/short.txt", "file", 5, 0.0),
        Node("/d/gone.txt", "file", 1, 0.0),
        # as restic's JSON spells it: one U+FFFD per stray byte; bytes e9 b1 a8 happen to be UTF-8
        Node("/d/\ufffd\ufffd\ufffd鱨\ufffd\ufffd.txt", "file", 3, 0.0),
    ]
    problems = compare_tree(os.fsencode(tmp_path), listed)
    assert problems == [
        "/d/gone.txt: missing or not 1 bytes",
        "/d/short.txt: missing or not 5 bytes",
        "/d/extra.txt: restored (0 bytes), not in the snapshot",
        "/d/short.txt: restored (2 bytes), not in the snapshot",
    ]
    assert compare_tree(os.fsencode(tmp_path), listed[:1] + listed[3:]) != []  # extra files still count


def test_the_scheduled_full_drill_is_off_by_default_and_when_enabled_runs_as_a_job(site: Site) -> None:
    import dataclasses
    import logging
    import threading
    import time

    from agent.actions.base import JobContext
    from agent.config.schema import Config
    from agent.jobs import JOBS, scheduled
    from common.refs import resolve

    [spec] = [s for s in JOBS if s.name == "backup_drill_full"]
    assert spec.schedule(Config()) is None  # no backups configured: no job at all
    config = load_config(site.config).config
    assert "backup_drill_full" not in {j.name for j in scheduled(JOBS, config)}  # off by default
    drill = config.backup.drill
    enabled = dataclasses.replace(drill, full_schedule=dataclasses.replace(drill.full_schedule, enabled=True))
    config = dataclasses.replace(config, backup=dataclasses.replace(config.backup, drill=enabled))
    assert "backup_drill_full" in {j.name for j in scheduled(JOBS, config)}
    state = State.open(site.state_dir)
    try:
        before = site.views()["primary"].last.started
        ctx = JobContext(config, state, site.state_dir, time.monotonic() + 300, threading.Event(),
                         logging.getLogger("test"))  # fmt: skip
        assert isinstance(spec.action, str)  # "module:function", run by a worker process
        outcome = resolve(spec.action)(ctx)
    finally:
        state.close()
    assert outcome.success, outcome.error
    after = site.views()["primary"]
    assert after.last.ok and after.last.started > before


def test_z_a_flipped_byte_in_a_pack_fails_the_drill_with_an_error_and_leaves_nothing_behind(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    packs = sorted((site.env.root / "secondary" / "data").rglob("*"), key=lambda p: p.stat().st_size)
    pack = packs[-1]  # the largest pack holds the 2 MB file's blobs
    pack.chmod(0o600)
    data = bytearray(pack.read_bytes())
    for i in range(200, 264):
        data[i] ^= 0xFF
    pack.write_bytes(bytes(data))
    code, out = site.drill(capsys, "--repo", "secondary")
    assert code == 1 and "secondary" in out and "error [" in out, out
    view = site.views()["secondary"]
    # restic names the file whose blob failed authentication
    assert not view.last.ok and view.last.error_kind == "restore", view.last
    assert "病历/李四 报告.pdf: ciphertext verification failed" in view.last.error, view.last
    assert site.metrics()["hostward_backup_drill_full_success"]["secondary"] == 0.0
    assert os.listdir(site.state_dir / "drill-full") == []


def test_an_unreadable_full_drill_record_exports_nothing_rather_than_a_pass(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    try:
        put_raw(state, "drill_full", {"repositories": {
            "primary": {"version": 99, "repository": "primary", "ok": True, "started": 1.0},
            "secondary": {"version": 1, "ok": True},  # no repository, no start time
        }})  # fmt: skip
        snapshot = state.snapshot()
        with pytest.raises(StateError, match="drill_full"):
            snapshot.get(FullDrillRecord)
        assert full_drills(snapshot) == {}
        assert not [f for f in backup_families(snapshot) if "drill_full" in f.name]
        put_json(state, "backup", {"repositories": {"primary": {"status": "ok", "bytes_processed": 10}}})
        page = backup_section(state.snapshot(), "en")
        assert '<p id="backup-drill-full" class="warn">Full recovery drill: never run' in page, page
    finally:
        state.close()
