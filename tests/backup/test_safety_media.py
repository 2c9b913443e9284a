"""Where the copies and their password live (issue 16, weak items): both copies on one disk
warned; a password file open to others refused; `backup init` refused on an empty mount point;
coverage "unknown", never "no gap", while a repository cannot be listed. Real restic."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from backup_kit import Env, cli_argv, run_cli, write_cli_config, write_tree

from agent.state import State
from agent.web.section_backup import backup_section
from backup.media import same_media

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_config_validate_and_the_status_page_warn_when_both_copies_share_a_disk(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    checked = run_cli("config", "validate", "-c", config)
    assert checked.returncode == 0 and "same filesystem" in checked.stdout and "BAK-2" in checked.stdout
    assert run_cli("backup", "run", "-c", config).returncode == 0
    snapshot = State.open(env.root / "state").snapshot()
    for lang, word in (("en", "Warning"), ("zh", "警告")):
        page = backup_section(snapshot, lang)
        assert 'id="backup-warnings"' in page and f"{word}: backup.repositories:" in page


def test_copies_on_different_filesystems_or_remote_are_not_warned_about(tmp_path: Path) -> None:
    other = Path("/dev/shm")
    if not other.is_dir() or os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem here")
    assert same_media(str(tmp_path / "primary"), str(other / "hostward-never-created" / "secondary")) == ""
    assert same_media(str(tmp_path / "primary"), "sftp:backup@127.0.0.1:/srv/hostward") == ""
    assert same_media(str(tmp_path / "primary"), "rest:http://127.0.0.1:8000/") == ""
    assert "same filesystem" in same_media(str(tmp_path / "a" / "primary"), str(tmp_path / "b" / "secondary"))
    assert "one inside the other" in same_media(str(tmp_path / "r"), str(tmp_path / "r" / "secondary"))


@pytest.mark.parametrize("mode", [0o640, 0o604], ids=["0640", "0604"])
def test_a_password_file_open_to_group_or_others_is_refused_naming_the_file_and_the_fix(
    env: Env, mode: int
) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    env.password_file.chmod(mode)
    done = run_cli("backup", "run", "-c", config, "--json")
    assert done.returncode == 1
    for repo in json.loads(done.stdout)["repositories"].values():
        assert repo["status"] == "failed"
        assert str(env.password_file) in repo["error"] and f"chmod 600 {env.password_file}" in repo["error"]
    assert "chmod 600" in run_cli("config", "validate", "-c", config).stdout
    env.password_file.chmod(0o600)
    assert run_cli("backup", "run", "-c", config).returncode == 0


def _in_private_media(script: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run `script` (python) as root in a private mount namespace with a tmpfs on /media."""
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", script, *argv],
        capture_output=True, text=True, timeout=120, check=False, cwd=str(REPO_ROOT),
    )  # fmt: skip


INIT_ON_MEDIA = """\
import subprocess, sys, os
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/media"], check=True)
os.makedirs("/media/usb-disk")  # the mount point, nothing mounted: same st_dev as /media
def init(*extra):
    return subprocess.run([*sys.argv[2:], *extra], capture_output=True, text=True)
refused = init()
allowed = init("--allow-unmounted")
made = os.path.exists("/media/usb-disk/hostward/config")
subprocess.run(["rm", "-rf", "/media/usb-disk/hostward"], check=True)
subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/media/usb-disk"], check=True)  # the disk arrives
mounted = init()
print(refused.returncode, allowed.returncode, made, mounted.returncode)
print(refused.stderr)
"""


def test_backup_init_refuses_an_empty_mount_point_unless_told(env: Env) -> None:
    config = write_cli_config(env)
    text = config.read_text(encoding="utf-8").replace(str(env.root / "primary"), "/media/usb-disk/hostward")
    config.write_text(text, encoding="utf-8")
    done = _in_private_media(
        INIT_ON_MEDIA, "-", *cli_argv("backup", "init", "--only", "primary", "-c", str(config))
    )
    if done.returncode != 0:
        pytest.skip(f"no private mount namespace with tmpfs here: {done.stderr[-300:]}")
    codes, _, stderr = done.stdout.partition("\n")
    assert codes.split() == ["1", "0", "True", "0"]
    assert "/media/usb-disk is an empty directory on its parent's disk" in stderr
    assert "Mount the backup disk" in stderr and "--allow-unmounted" in stderr


def test_a_missing_repository_hint_asks_for_the_disk_before_any_init(env: Env) -> None:
    write_tree(env.source)
    shutil.copytree(env.template / "secondary", env.root / "secondary")
    done = run_cli("backup", "run", "-c", str(write_cli_config(env)))
    assert done.returncode == 3
    hint = done.stdout[done.stdout.index("is the backup disk mounted?") :]
    assert hint.index("mount it") < hint.index("hostward backup init")


def test_snapshots_say_coverage_unknown_while_a_repository_cannot_be_listed(env: Env) -> None:
    write_tree(env.source)
    env.init_both()
    config = str(write_cli_config(env))
    assert run_cli("backup", "run", "-c", config).returncode == 0
    fine = run_cli("backup", "snapshots", "-c", config, "--json")
    assert fine.returncode == 0 and json.loads(fine.stdout)["coverage"]["status"] == "no_gap"
    shutil.move(env.root / "secondary", env.root / "secondary-away")  # the disk is gone
    text = run_cli("backup", "snapshots", "-c", config)
    assert text.returncode == 1
    assert "coverage: unknown" in text.stdout and "no gap" not in text.stdout
    listing = json.loads(run_cli("backup", "snapshots", "-c", config, "--json").stdout)
    assert listing["coverage"]["gap"] is None and listing["coverage"]["status"] == "unknown"
    assert listing["coverage"]["unknown"] == ["secondary"]
