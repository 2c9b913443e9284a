"""Helpers of the reliability tests, part C (journal, clock, state faults): a small tmpfs to fill,
a read-only bind mount, the CLI, and readers of the journal and /metrics."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit import HOSTWARD, ROOT, agent_env

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None,
    reason="mounting a tmpfs needs root",
)


def _run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        pytest.skip(f"{' '.join(argv)} failed here: {done.stderr.strip()}")


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "2m") mounted at `path` for the block."""
    path.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(("umount", "-l", str(path)), capture_output=True, timeout=30, check=False)


@contextlib.contextmanager
def readonly_bind(source: Path, target: Path) -> Iterator[Path]:
    """`source` seen read-only at `target` (a bind mount remounted ro)."""
    target.mkdir(parents=True, exist_ok=True)
    _run("mount", "--bind", str(source), str(target))
    try:
        _run("mount", "-o", "remount,bind,ro", str(target))
        yield target
    finally:
        subprocess.run(("umount", "-l", str(target)), capture_output=True, timeout=30, check=False)


def fill(directory: Path, name: str = "filler") -> Path:
    """Write `directory/name` until the filesystem is full (ENOSPC); return the file."""
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for chunk in (1 << 16, 4096, 1):
            data = b"\0" * chunk
            while True:
                try:
                    if os.write(fd, data) < chunk:
                        break
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    finally:
        os.close(fd)
    return path


def hostward(*args: str, user: str = "") -> subprocess.CompletedProcess[str]:
    """The real CLI; `user` runs it through setpriv as that uid/gid (no supplementary groups)."""
    prefix: tuple[str, ...] = ()
    if user:
        prefix = ("setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--")
    return subprocess.run(
        (*prefix, str(HOSTWARD), *args), capture_output=True, text=True, timeout=60, check=False,
        env=agent_env(), cwd=ROOT,
    )


def journal_lines(state: Path) -> list[dict[str, Any]]:
    """Every line of the journal parsed as JSON: fails if a line is torn or glued."""
    raw = (state / "journal.jsonl").read_bytes()
    assert raw.endswith(b"\n"), raw[-200:]
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def kinds(state: Path) -> list[str]:
    return [str(item["kind"]) for item in journal_lines(state)]


def sample(body: str, name: str, **labels: str) -> float | None:
    """One sample of Prometheus text (labels compared as a set), or None."""
    want = {f'{k}="{v}"' for k, v in labels.items()}
    for line in body.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, rest = head.partition("{")
        if metric == name and want == ({p for p in rest.rstrip("}").split(",") if p} if rest else set()):
            return float(value)
    return None
