"""Fixtures of tests/reliability; the helpers live in reliability_kit.py (part A) and
reliability_b_kit.py (part B), modules with unique names that tests import."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reliability_kit import MARKER, Agent


@pytest.fixture
def start_agent(tmp_path: Path) -> Iterator[Callable[..., Agent]]:
    """Start `hostward run` on a config (YAML text; `{state}` becomes a temp state dir).
    Every agent started is stopped at the end of the test."""
    started: list[Agent] = []

    def start(text: str, wrapper: tuple[str, ...] = ()) -> Agent:
        config = tmp_path / "hostward.yaml"
        config.write_text(text.replace("{state}", str(tmp_path / "state")), encoding="utf-8")
        agent = Agent(config, tmp_path, wrapper)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()


@pytest.fixture
def no_marker() -> Iterator[Path]:
    """The file a hostile string would create if anything ran it: absent before and after."""
    MARKER.unlink(missing_ok=True)
    yield MARKER
    assert not MARKER.exists(), f"a hostile string was executed: {MARKER} exists"
