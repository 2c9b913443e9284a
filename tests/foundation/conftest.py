"""Fixtures for the foundation tests: the real console script, temp configs, free ports,
and clocks that tests move by hand."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path

import pytest
from testkit import HOSTWARD, ROOT, AgentProcess, agent_env, free_port

from agent.timing import Clocks


class FakeClocks:
    """A monotonic and a wall clock moved only by the test; `wait` never sleeps for real."""

    def __init__(self, mono: float = 1000.0, wall: float = 1_795_392_000.0) -> None:
        self.mono = mono  # 1_795_392_000 = 2026-11-23 00:00:00 UTC
        self.wall = wall

    def advance(self, seconds: float, *, wall: float | None = None) -> None:
        """Both clocks move by `seconds`; `wall` moves the wall clock by a different amount."""
        self.mono += seconds
        self.wall += seconds if wall is None else wall

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if event.wait(0.01):
            return True
        self.advance(max(0.0, seconds))
        return event.is_set()

    def clocks(self) -> Clocks:
        return Clocks(monotonic=lambda: self.mono, wall=lambda: self.wall, wait=self.wait, tz=UTC)


@pytest.fixture
def fake_clocks() -> FakeClocks:
    return FakeClocks()


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a config (YAML text, `{state}` replaced by a temp state dir) and return its path."""

    def write(text: str, name: str = "hostward.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text.replace("{state}", str(tmp_path / "state")), encoding="utf-8")
        return path

    return write


def hostward_env() -> dict[str, str]:
    return agent_env()


def run_hostward(
    *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed `hostward` console script and capture its output."""
    return subprocess.run(
        (str(HOSTWARD), *args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=hostward_env(),
        cwd=ROOT,
        check=False,
    )


@pytest.fixture
def hostward() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_hostward


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[Callable[..., AgentProcess]]:
    started: list[AgentProcess] = []

    def start(config: Path, script: str | None = None) -> AgentProcess:
        agent = AgentProcess(tmp_path, config, script=script)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop(graceful=False)
