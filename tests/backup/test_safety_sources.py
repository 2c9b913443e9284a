"""A backup source that cannot be read is never an "ok" backup (issue 16, item 5).

Real restic, real files: missing sources, a symbolic link given as a source, a socket, a file
even root cannot read (a write-only sysfs attribute), a dead FUSE mount (ENOTCONN, made in a
private mount namespace), the empty directory of an unmounted disk, and files restic itself
could not read during the run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from backup_kit import Env, cli_argv, run_cli, write_cli_config, write_tree

from backup.mounts import MountTables, unmounted
from backup.night import run_backup
from backup.parse import backup_summary
from backup.sources import check_source

UNREADABLE_FOR_ROOT = "/sys/bus/pci/rescan"  # mode 0200: open() for reading fails even for root


def _config_with_sources(env: Env, *sources: str) -> str:
    path = write_cli_config(env)
    text = path.read_text(encoding="utf-8").replace(
        f'sources: ["{env.source}"]', "sources: [" + ", ".join(json.dumps(s) for s in sources) + "]"
    )
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_missing_source_beside_an_existing_one_makes_the_run_partial_and_names_it(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    missing = env.root / "不存在的目录"
    config = _config_with_sources(env, str(env.source), str(missing))
    done = run_cli("backup", "run", "-c", config, "--json")
    assert done.returncode == 3, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "partial"
    assert [s["path"] for s in result["unreadable_sources"]] == [str(missing)]
    for repo in result["repositories"].values():
        assert repo["status"] == "partial" and str(missing) in repo["error"]
        assert repo["summary"]["files_processed"] == 5  # the readable source was backed up
    text = run_cli("backup", "run", "-c", config)
    assert text.returncode == 3 and f"source NOT backed up: {missing}: missing" in text.stdout


@pytest.mark.parametrize("kind", ["symlink", "socket", "unreadable", "all missing"])
def test_every_kind_of_unreadable_source_is_named_and_never_ok(env: Env, kind: str) -> None:
    write_tree(env.source)
    env.init_both()
    bad = env.root / f"bad-{kind.replace(' ', '-')}"
    sock = None
    if kind == "symlink":
        bad.symlink_to(env.source)  # restic would store the link itself: a backup of nothing
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(bad))
    elif kind == "unreadable":
        if not os.path.exists(UNREADABLE_FOR_ROOT):
            pytest.skip("no write-only sysfs attribute here")
        bad = Path(UNREADABLE_FOR_ROOT)
    try:
        sources = (str(bad),) if kind == "all missing" else (str(env.source), str(bad))
        result = run_backup(env.plan(sources=sources), env.runner, timeout=120)
    finally:
        if sock is not None:
            sock.close()
    assert [p.path for p in result.source_problems] == [str(bad)]
    reason = result.source_problems[0].reason
    expected = {
        "symlink": "symbolic link", "socket": "neither a directory",
        "unreadable": "permission denied", "all missing": "missing",
    }[kind]  # fmt: skip
    assert expected in reason
    assert result.status == ("failed" if kind == "all missing" else "partial")
    assert all(o.status != "ok" for o in result.repositories)


def test_a_dead_fuse_mount_as_a_source_is_reported_as_not_answering(env: Env) -> None:
    """The FUSE daemon is gone (its /dev/fuse descriptor closed): every access is ENOTCONN."""
    if not os.path.exists("/dev/fuse"):
        pytest.skip("no /dev/fuse")
    write_tree(env.source)
    env.init_both()
    dead = env.root / "nas"
    dead.mkdir()
    config = _config_with_sources(env, str(env.source), str(dead))
    mount_then_run = (
        "import ctypes, os, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "fd = os.open('/dev/fuse', os.O_RDWR)\n"
        "opts = f'fd={fd},rootmode=40000,user_id=0,group_id=0'.encode()\n"
        "if libc.mount(b'hostward-dead', sys.argv[1].encode(), b'fuse', 0, opts) != 0:\n"
        "    sys.exit(77)\n"
        "os.close(fd)\n"
        "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
    )
    argv = ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", mount_then_run,
            str(dead), *cli_argv("backup", "run", "-c", config, "--json")[1:]]  # fmt: skip
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=120, check=False, cwd=str(Path(__file__).parents[2])
    )
    if done.returncode == 77:
        pytest.skip("cannot mount a FUSE filesystem here")
    assert done.returncode == 3, done.stderr
    problems = json.loads(done.stdout)["unreadable_sources"]
    assert [p["path"] for p in problems] == [str(dead)]
    assert "does not answer" in problems[0]["reason"] and "a dangling mount?" in problems[0]["reason"]


def test_the_empty_directory_of_an_unmounted_disk_is_not_backed_up_as_if_it_were_the_data(
    tmp_path: Path,
) -> None:
    media = tmp_path / "media"
    (media / "ops" / "USB-DISK").mkdir(parents=True)
    (tmp_path / "srv").mkdir()
    fstab = tmp_path / "fstab"
    fstab.write_text(f"UUID=1234 {tmp_path / 'srv'} ext4 defaults 0 2\n# {tmp_path / 'x'} comment\n")
    mounts = tmp_path / "mounts"
    mounts.write_text("proc /proc proc rw 0 0\n")
    tables = MountTables(str(fstab), str(mounts), (str(media),))
    assert "nothing is mounted" in check_source(str(media / "ops" / "USB-DISK"), tables)
    assert "in " + str(fstab) in unmounted(str(tmp_path / "srv" / "his-data"), tables)
    mounts.write_text(f"/dev/sdb1 {tmp_path / 'srv'} ext4 rw 0 0\n")
    assert unmounted(str(tmp_path / "srv" / "his-data"), tables) == ""
    (media / "ops" / "USB-DISK" / "data.txt").write_text("on the disk\n")
    assert check_source(str(media / "ops" / "USB-DISK"), tables) == ""


def test_restic_skipping_a_missing_source_with_exit_0_is_still_partial(env: Env) -> None:
    """The second line of defence: without our own look at the sources, restic 0.14 says
    "does not exist, skipping" and exits 0; its words alone make the run partial."""
    write_tree(env.source)
    env.init_both()
    gone = env.root / "gone"
    plan = env.plan(sources=(str(env.source), str(gone)))
    from dataclasses import replace

    result = run_backup(replace(plan, inspect_sources=False), env.runner, timeout=120)
    assert result.status == "partial"
    for o in result.repositories:
        assert o.summary is not None and any(str(gone) in item for item in o.summary.unreadable)


def test_restic_error_lines_on_either_stream_name_the_unreadable_files() -> None:
    summary = b'{"message_type":"summary","snapshot_id":"0c18c7a3","total_files_processed":2}'
    error = b'{"message_type":"error","error":{"Op":"open","Err":13},"during":"archival","item":"/srv/a"}'
    on_stdout = backup_summary(summary + b"\n" + error, b"", "primary", partial=False)
    on_stderr = backup_summary(summary, error + b"\n/srv/b does not exist, skipping\n", "primary", False)
    assert on_stdout.status == "partial" and on_stdout.unreadable == ("/srv/a",)
    assert on_stderr.status == "partial" and on_stderr.unreadable == ("/srv/a", "/srv/b (does not exist)")
    clean = backup_summary(summary, b"", "primary", partial=False)
    assert clean.status == "ok" and clean.unreadable == ()
