"""Fixtures for the exporter tests: real configs (through the schema), a state with stored
records, a running exporter on a free loopback port, raw HTTP helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from exporter_helpers import FAKE_HOST, free_port
from testkit import put_json

from agent.config import LoadedConfig, load_config
from agent.exporter.server import ExporterHandle, start_exporter
from agent.state import State


@pytest.fixture
def make_loaded(tmp_path: Path) -> Callable[..., LoadedConfig]:
    """A LoadedConfig from real YAML on a free port; `exporter` is extra YAML under exporter:."""

    def make(exporter: str = "", port: int | None = None) -> LoadedConfig:
        port = port or free_port()
        lines = [f'  listen: "127.0.0.1:{port}"'] + [f"  {line}" for line in exporter.splitlines() if line]
        text = f"version: 1\nstate_dir: {tmp_path / 'state'}\nexporter:\n" + "\n".join(lines) + "\n"
        path = tmp_path / "hostward.yaml"
        path.write_text(text, encoding="utf-8")
        return load_config(str(path))

    return make


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    """A state with a stored host record, a good `collect` job and a failing `audit` job."""
    st = State.open(tmp_path / "state")
    put_json(st, "host", FAKE_HOST, taken=FAKE_HOST["taken"])
    now = time.time()
    st.record_run("collect", now - 2, 0.01, True)
    st.record_run("audit", now - 5, 1.5, False, "probe <x> failed & gave up")
    st.record_run("audit", now - 1, 1.25, False, "probe <x> failed & gave up")
    yield st
    st.close()


@pytest.fixture
def serve(state: State) -> Iterator[Callable[[LoadedConfig], ExporterHandle]]:
    """Start exporters over `state`; all are closed at the end of the test."""
    handles: list[ExporterHandle] = []

    def start(loaded: LoadedConfig) -> ExporterHandle:
        handle = start_exporter(loaded, state)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.close()
