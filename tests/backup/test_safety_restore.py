"""A restore never writes over live data without --in-place, however the target is spelt, and
reports what restic restored, not what the target holds (issue 16, item 6).

restic cleans the target lexically (Go's filepath.Abs/Clean: `a/link/..` is `a`), then the OS
follows symlinks when writing. The guard judges both, and every symlink on the way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from backup_kit import Env, run_cli, write_cli_config, write_tree

from backup.errors import RestoreRefused
from backup.restore import check_target, resolve_target, restic_path


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """tmp/srv/his (the live source), tmp/usr/bin with tmp/bin -> usr/bin (as /bin on Debian)."""
    (tmp_path / "srv" / "his").mkdir(parents=True)
    (tmp_path / "srv" / "his" / "a.txt").write_text("live\n")
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "bin").symlink_to("usr/bin")
    (tmp_path / "restore").mkdir()
    return {"root": tmp_path, "live": tmp_path / "srv" / "his"}


def test_the_target_is_resolved_both_as_restic_does_and_as_the_disk_does(layout: dict[str, Path]) -> None:
    root = layout["root"]
    target = resolve_target(f"{root}/bin/..")
    assert target.lexical == target.physical == str(root)  # what restic uses, and where it writes
    assert os.path.realpath(f"{root}/bin/..") == str(root / "usr")  # what the old guard looked at
    assert restic_path("//x/../y") == "/y"  # Go cleans a double slash, Python's normpath keeps it


@pytest.mark.parametrize(
    "spelling",
    [
        "lexical parent through a symlink (bin/..)",
        "a symlink to the source",
        "a symlink to a parent of the source",
        "the source's parent",
        "inside the source",
        "the source itself",
        "a symlink inside the target",
        "relative, from a symlinked working directory",
    ],
)
def test_every_spelling_of_a_target_overlapping_live_data_is_refused(
    layout: dict[str, Path], spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, live = layout["root"], layout["live"]
    snapshot_paths = [str(live)]
    if spelling.startswith("lexical"):
        target = f"{root}/bin/.."
    elif spelling == "a symlink to the source":
        (root / "out").symlink_to(live)
        target = str(root / "out")
    elif spelling == "a symlink to a parent of the source":
        (root / "out").symlink_to(root / "srv")
        target = str(root / "out" / "his" / "restored")  # = the source/restored on disk
    elif spelling == "the source's parent":
        target = str(root / "srv")
    elif spelling == "inside the source":
        target = str(live / "restore-test")
    elif spelling == "the source itself":
        target = str(live)
    elif spelling == "a symlink inside the target":
        first = str(live).lstrip("/").split("/")[0]
        (root / "restore" / first).symlink_to("/" + first)  # target/tmp -> /tmp: writes land on /tmp/...
        target = str(root / "restore")
    else:
        monkeypatch.chdir(root / "bin")
        monkeypatch.setenv("PWD", str(root / "bin"))
        target = "../srv/his/x"  # restic: root/srv/his/x (inside the source); getcwd alone: root/usr/srv/...
    with pytest.raises(RestoreRefused):
        check_target(target, snapshot_paths, [str(live)], in_place=False)
    check_target(target, snapshot_paths, [str(live)], in_place=True)  # meant: allowed


def test_an_empty_target_beside_the_sources_is_allowed(layout: dict[str, Path]) -> None:
    root, live = layout["root"], layout["live"]
    got = check_target(str(root / "restore"), [str(live)], [str(live)], in_place=False)
    assert got.lexical == got.physical == str(root / "restore")


def test_the_journal_records_the_target_restic_used_and_the_counts_restic_reported(env: Env) -> None:
    files = write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    assert run_cli("backup", "run", "-c", config).returncode == 0
    (env.root / "usr" / "bin").mkdir(parents=True)
    (env.root / "bin").symlink_to("usr/bin")
    # bin/.. is env.root for restic: the live source lies below it. Refused.
    refused = run_cli(
        "backup", "restore", "-c", config, "--snapshot", "latest", "--target", f"{env.root}/bin/.."
    )
    assert refused.returncode == 1 and "overlaps live data" in refused.stderr
    # A target that already holds 5 MB of other files: the summary counts only the restore.
    target = env.root / "恢复"
    target.mkdir()
    (target / "other.bin").write_bytes(os.urandom(5_000_000))
    done = run_cli("backup", "restore", "-c", config, "--snapshot", "latest", "--target", f"{target}/./")
    assert done.returncode == 0, done.stderr
    lines = (env.root / "state" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    journal = [json.loads(x)["data"] for x in lines if json.loads(x)["kind"] == "backup.restore"]
    assert [e["status"] for e in journal] == ["refused", "ok"]
    assert journal[0]["target"] == journal[0]["target_physical"] == str(env.root)
    ok = journal[1]
    assert ok["target"] == str(target)
    assert ok["files"] == len(files) and ok["bytes"] == sum(len(v) for v in files.values())
    assert ok["counted_by"] in ("verify", "summary")
    assert f"restored {len(files)} files" in done.stdout
