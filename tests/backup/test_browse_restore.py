"""Browsing both repositories and the offline copy, and restoring from the offline media
(issue 13, item 4), with real restic and real local repositories.

One module-scoped set-up: a source with Chinese UTF-8 names and one GB18030 name (bytes that are
not UTF-8, as a legacy Linux share holds them), backed up by `hostward backup run` into a primary
and its mirror, then copied by `hostward backup offline` onto a "media" directory. Every restic
run goes through a wrapper (the config's `restic:` setting) that logs the repository and the
subcommand, so the tests count repository opens from restic's own invocations.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from backup_kit import PASSWORD, Env, cli_argv, write_cli_config, write_tree

from collectors.system.runner import SubprocessRunner

GB_NAME = "中文档案".encode("gb18030") + b".txt"  # b'\xd6\xd0\xce\xc4...': not UTF-8


@dataclass
class Setup:
    env: Env
    config: Path
    media: Path
    log: Path
    files: dict[str, bytes]

    def cli(self, *args: str, encoding: str = "utf-8") -> subprocess.CompletedProcess[str]:
        environ = {**os.environ, "PYTHONIOENCODING": encoding}
        done = subprocess.run(
            cli_argv(*args), capture_output=True, timeout=180, check=False, env=environ,
            cwd=str(Path(__file__).resolve().parents[2]),
        )  # fmt: skip
        return subprocess.CompletedProcess(
            done.args, done.returncode, done.stdout.decode(encoding), done.stderr.decode(encoding, "replace")
        )

    def restic_runs(self) -> list[tuple[str, str]]:
        """(repository, subcommand) of every restic run since the last call."""
        lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        self.log.write_text("", encoding="utf-8")
        return [(line.split("\t")[0], line.split("\t")[1]) for line in lines]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Setup:
    root = tmp_path_factory.mktemp("browse")
    source = root / "源数据"
    source.mkdir()
    files = write_tree(source, size=50_000)
    (source / "病历").joinpath(os.fsdecode(GB_NAME)).write_bytes(b"legacy share file\n")
    password = root / "restic.pass"
    password.write_text(PASSWORD)
    password.chmod(0o600)
    env = Env(root, source, password, root / "cache", SubprocessRunner())
    env.template = template
    env.init_mirror()
    log = root / "restic-calls.log"
    wrapper = root / "restic-wrapper"
    wrapper.write_text(
        f'#!/bin/sh\nprintf "%s\\t%s\\n" "$RESTIC_REPOSITORY" "$1" >> "{log}"\nexec restic "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    config = write_cli_config(env)
    config.write_text(config.read_text(encoding="utf-8") + f'  restic: "{wrapper}"\n', encoding="utf-8")
    media = root / "usb-disk"
    media.mkdir()
    s = Setup(env, config, media, log, files)
    assert s.cli("backup", "run", "-c", str(config)).returncode == 0
    done = s.cli("backup", "offline", "-c", str(config), "--to", str(media), "--media-id", "USB-07")
    assert done.returncode == 0, done.stderr
    s.restic_runs()
    return s


def _json(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 0, done.stderr
    value = json.loads(done.stdout)
    assert isinstance(value, dict)
    return value


def test_ls_lists_one_snapshot_of_either_repository_with_chinese_and_gb18030_names(setup: Setup) -> None:
    gb_path = f"{setup.env.source}/病历/{GB_NAME.decode('gb18030')}"
    for repo in ("primary", "secondary"):
        listing = _json(
            setup.cli("backup", "ls", "latest", "-c", str(setup.config), "--repo", repo, "--json")
        )
        entries = {e["path"]: e for e in listing["entries"]}  # type: ignore[attr-defined]
        assert listing["repository"] == repo
        assert entries[f"{setup.env.source}/病历/张三-2026.txt"]["size"] == len(
            setup.files["病历/张三-2026.txt"]
        )
        assert entries[gb_path]["encoding"] == "gb18030"
        assert bytes.fromhex(entries[gb_path]["path_bytes_hex"]).endswith(GB_NAME)
        assert not any("\ufffd" in p for p in entries)
    folder = str(setup.env.source / "财务")
    text = setup.cli("backup", "ls", "latest", folder, "-R", "-c", str(setup.config))
    assert text.returncode == 0, text.stderr
    assert "账本.csv" in text.stdout and "张三" not in text.stdout  # only below the path asked for
    assert "路径 path" in text.stdout and "1 files" in text.stdout
    shallow = setup.cli("backup", "ls", "latest", folder, "-c", str(setup.config))
    assert "二〇二六年" in shallow.stdout and "账本.csv" not in shallow.stdout  # one level, as ls


def test_ls_and_find_survive_a_western_windows_code_page(setup: Setup) -> None:
    done = setup.cli("backup", "ls", "latest", "-c", str(setup.config), encoding="cp1252")
    assert done.returncode == 0, done.stderr
    assert "readme.txt" in done.stdout and "path" in done.stdout  # Chinese became ?, nothing died
    found = setup.cli("backup", "find", "*.csv", "-c", str(setup.config), "--json", encoding="cp1252")
    matches = _json(found)["matches"]
    assert {m["path"] for m in matches} == {f"{setup.env.source}/财务/二〇二六年/账本.csv"}  # type: ignore[attr-defined]
    chinese = setup.cli("backup", "find", "账本*", "-c", str(setup.config), encoding="gb18030")
    assert chinese.returncode == 0 and "账本.csv" in chinese.stdout


def test_find_searches_both_repositories_and_names_each(setup: Setup) -> None:
    found = _json(setup.cli("backup", "find", "中文档案*", "-c", str(setup.config), "--json"))
    matches = found["matches"]
    assert sorted(m["repository"] for m in matches) == ["primary", "secondary"]  # type: ignore[attr-defined]
    assert all(m["encoding"] == "gb18030" for m in matches)  # type: ignore[attr-defined]
    assert found["errors"] == {}
    none = _json(setup.cli("backup", "find", "no-such-file-*", "-c", str(setup.config), "--json"))
    assert none["matches"] == []


def test_the_offline_copy_is_browsed_and_restored_from_the_media_alone(setup: Setup) -> None:
    setup.restic_runs()
    listing = _json(setup.cli(
        "backup", "ls", "latest", "-c", str(setup.config), "--repo", "offline", "--media", str(setup.media),
        "--json",
    ))  # fmt: skip
    assert listing["repository"] == "offline:USB-07"
    target = setup.env.root / "from-media"
    done = setup.cli(
        "backup", "restore", "-c", str(setup.config), "--from", "offline", "--media", str(setup.media),
        "--snapshot", "latest", "--target", str(target),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    restored = target / str(setup.env.source).lstrip("/")
    for rel, data in setup.files.items():
        assert hashlib.sha256((restored / rel).read_bytes()).digest() == hashlib.sha256(data).digest()
    assert (restored / "病历").joinpath(os.fsdecode(GB_NAME)).read_bytes() == b"legacy share file\n"
    media_repo = str(setup.media / "hostward-offline")
    assert {repo for repo, _ in setup.restic_runs()} == {media_repo}  # neither configured repository


def test_offline_without_media_or_with_empty_media_fails_clearly(setup: Setup) -> None:
    empty = setup.env.root / "blank-usb"
    empty.mkdir()
    for extra in ([], ["--media", str(empty)]):
        done = setup.cli(
            "backup", "restore", "-c", str(setup.config), "--from", "offline", *extra,
            "--snapshot", "latest", "--target", str(setup.env.root / "never"),
        )  # fmt: skip
        assert done.returncode == 1
        assert "--media" in done.stderr or "no offline copy" in done.stderr
    assert not (setup.env.root / "never").exists()


def test_a_restore_opens_one_repository_once_before_restic_restore(setup: Setup) -> None:
    setup.restic_runs()
    target = setup.env.root / "one-open"
    secondary = str(setup.env.root / "secondary")
    done = setup.cli(
        "backup", "restore", "-c", str(setup.config), "--from", "secondary", "--snapshot", "latest",
        "--target", str(target),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert setup.restic_runs() == [(secondary, "restore")]  # an empty target: restic resolves `latest`
    busy = setup.env.root / "busy-target"
    busy.mkdir()
    (busy / "other.txt").write_text("not ours\n")
    done = setup.cli(
        "backup", "restore", "-c", str(setup.config), "--from", "secondary", "--snapshot", "latest",
        "--target", str(busy),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert setup.restic_runs() == [(secondary, "snapshots"), (secondary, "restore")]  # paths judged first
    journal = [
        json.loads(x)["data"]
        for x in (setup.env.root / "state" / "journal.jsonl").read_text("utf-8").splitlines()
    ]
    last = [e for e in journal if e.get("target") == str(target)][-1]
    assert last["bytes"] == sum(len(v) for v in setup.files.values()) + len(b"legacy share file\n")
    assert last["bytes_from"] == "target" and last["files"] == len(setup.files) + 1
    dry = setup.cli(
        "backup", "restore", "-c", str(setup.config), "--snapshot", "latest", "--dry-run",
        "--target", str(setup.env.root / "dry"),
    )  # fmt: skip
    assert dry.returncode == 0 and f"{len(setup.files) + 1} files" in dry.stdout
    assert [sub for _, sub in setup.restic_runs()] == ["ls"]  # the listing resolves the snapshot too


def test_a_wrong_snapshot_id_is_a_clear_error_and_writes_nothing(setup: Setup) -> None:
    target = setup.env.root / "wrong-id"
    done = setup.cli(
        "backup", "restore", "-c", str(setup.config), "--snapshot", "deadbeef", "--target", str(target)
    )
    assert done.returncode == 1
    assert "deadbeef" in done.stderr and "no matching ID" in done.stderr
    assert not target.exists()
    for args in (("ls", "deadbeef"), ("find", "*.txt", "--snapshot", "deadbeef", "--repo", "primary")):
        failed = setup.cli("backup", *args, "-c", str(setup.config))
        assert failed.returncode == 1 and "deadbeef" in failed.stderr and failed.stdout.strip() == ""


def test_a_path_the_snapshot_does_not_hold_is_refused_by_ls(setup: Setup) -> None:
    done = setup.cli("backup", "ls", "latest", "/no/such/dir", "-c", str(setup.config))
    assert done.returncode == 1 and "holds none of" in done.stderr


if sys.platform == "win32":  # pragma: no cover
    pytest.skip("POSIX file names (GB18030 bytes) and a shell wrapper", allow_module_level=True)
