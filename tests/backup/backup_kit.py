"""Fixtures for the backup tests: real restic repositories in temp dirs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from backup.config import BackupConfig, RepositoriesConfig, RepositoryConfig
from backup.mirror import create_mirror
from backup.plan import Plan, build_plan
from backup.restic import Repository, Restic
from collectors.system.runner import SubprocessRunner

if shutil.which("restic") is None:  # pragma: no cover - the Debian package is a test dependency
    pytest.skip("restic is not installed (scripts/debian-deps.sh test)", allow_module_level=True)


@dataclass
class Env:
    root: Path
    source: Path
    password_file: Path
    cache: Path
    runner: SubprocessRunner

    def repo(self, name: str, url: Path | None = None) -> Repository:
        return Repository(name, str(url or self.root / name), password_file=str(self.password_file))

    def restic(self, name: str, url: Path | None = None) -> Restic:
        return Restic(self.repo(name, url), self.runner, cache_dir=str(self.cache))

    def config(self, **overrides: object) -> BackupConfig:
        repos = RepositoriesConfig(
            primary=RepositoryConfig(url=str(self.root / "primary"), password_file=str(self.password_file)),
            secondary=RepositoryConfig(
                url=str(self.root / "secondary"), password_file=str(self.password_file)
            ),
        )
        values: dict[str, object] = {
            "sources": (str(self.source),),
            "repositories": repos,
            "cache_dir": str(self.cache),
            "lock_wait": 5,
        }
        values.update(overrides)
        return BackupConfig(**values)  # type: ignore[arg-type]

    def plan(self, **overrides: object) -> Plan:
        return build_plan(self.config(**overrides), str(self.cache))

    def init_both(self) -> None:
        """Both repositories, copied from a session template (restic init costs a second)."""
        for name in ("primary", "secondary"):
            shutil.copytree(self.template / name, self.root / name)

    def init_mirror(self) -> None:
        """A primary and a secondary made its mirror (as `hostward backup init` does)."""
        for name in ("primary", "secondary"):
            shutil.copytree(self.template / f"mirror-{name}", self.root / name)

    template: Path = Path()


def write_tree(source: Path, size: int = 200_000) -> dict[str, bytes]:
    """A small tree with Chinese names; returns {relative path: content}."""
    files = {
        "病历/张三-2026.txt": "住院记录 第一页\n".encode() * 50,
        "病历/李四 报告.pdf": os.urandom(size),
        "财务/二〇二六年/账本.csv": b"1,2,3\n" * 1000,
        "plain/readme.txt": b"hello\n",
        "空文件.txt": b"",
    }
    for rel, data in files.items():
        path = source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


PASSWORD = "correct horse battery staple\n"


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two empty repositories, initialised once per session, copied by each test."""
    root = tmp_path_factory.mktemp("template")
    password = root / "restic.pass"
    password.write_text(PASSWORD)
    password.chmod(0o600)
    runner = SubprocessRunner()
    for name in ("primary", "secondary"):
        Restic(Repository(name, str(root / name), str(password)), runner, cache_dir=str(root / "c")).init()
    shutil.copytree(root / "primary", root / "mirror-primary")
    create_mirror(str(root / "mirror-primary"), str(root / "mirror-secondary"))
    return root


@pytest.fixture
def env(tmp_path: Path, template: Path) -> Iterator[Env]:
    source = tmp_path / "源数据"
    source.mkdir()
    password = tmp_path / "restic.pass"
    password.write_text(PASSWORD)
    password.chmod(0o600)
    cache = tmp_path / "cache"
    e = Env(tmp_path, source, password, cache, SubprocessRunner())
    e.template = template
    yield e


def hold_lock(e: Env, name: str) -> subprocess.Popen[bytes]:
    """A live restic holding a (non-exclusive) lock: `backup --stdin` waiting on a pipe."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(e.root),
        "RESTIC_CACHE_DIR": str(e.cache),
        **e.repo(name).child_env(),
    }
    proc = subprocess.Popen(
        ["restic", "backup", "--stdin", "--stdin-filename", "held"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    locks = e.root / name / "locks"
    deadline = time.monotonic() + 20
    # restic creates the lock file under its final name, then writes it: wait for its content
    while not any(lock.stat().st_size > 0 for lock in locks.iterdir()):
        assert time.monotonic() < deadline, "restic did not take its lock"
        time.sleep(0.05)
    return proc


def restic_children(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True) if p.name() == "restic"]
    except psutil.NoSuchProcess:
        return []


def write_cli_config(e: Env, limit_upload: int = 0, state_dir: Path | None = None) -> Path:
    limit = f", limit_upload: {limit_upload}" if limit_upload else ""
    text = f"""\
version: 1
state_dir: "{state_dir or e.root / "state"}"
exporter: {{enabled: false}}
backup:
  sources: ["{e.source}"]
  cache_dir: "{e.cache}"
  lock_wait: 5s
  repositories:
    primary: {{url: "{e.root / "primary"}", password_file: "{e.password_file}"{limit}}}
    secondary: {{url: "{e.root / "secondary"}", password_file: "{e.password_file}"{limit}}}
"""
    path = e.root / "hostward.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def cli_argv(*args: str) -> list[str]:
    """`hostward ARGS` as a child process, through the real entry point."""
    return [sys.executable, "-m", "agent", *args]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_argv(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
