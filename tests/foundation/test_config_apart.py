"""agent/config/apart.py: the daemon's config file is read in a child process, and what comes
back is what `load_config` gives in-process: the same settings, the same located problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import apart, load_config
from common.schema import SchemaError


def test_a_valid_file_reads_the_same_as_in_process(tmp_path: Path) -> None:
    path = tmp_path / "hostward.yaml"
    path.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\naudit:\n  schedule: {{every: 7m}}\n")
    loaded = apart.load_apart(str(path))
    assert loaded == load_config(str(path))
    assert loaded.config.audit.schedule.every == 420 and loaded.source == str(path)


def test_an_invalid_file_raises_every_located_problem_as_in_process(tmp_path: Path) -> None:
    path = tmp_path / "hostward.yaml"
    path.write_text("version: 1\naudit:\n  schedule: {every: soon}\ncolect: {}\n")
    with pytest.raises(SchemaError) as here:
        load_config(str(path))
    with pytest.raises(SchemaError) as there:
        apart.load_apart(str(path))
    assert there.value.problems == here.value.problems and len(there.value.problems) == 2
    assert f"{path}:3: audit.schedule.every" in str(there.value)
    assert "did you mean 'collect'?" in str(there.value)


def test_a_child_that_cannot_check_the_file_is_a_problem_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hostward.yaml"
    path.write_text("version: 1\n")
    monkeypatch.setattr(apart, "CHILD", "agent.config.no_such_module")
    with pytest.raises(SchemaError, match=r"hostward\.yaml:0: the config could not be checked: exit code 1"):
        apart.load_apart(str(path))


def test_the_embedded_default_needs_no_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apart, "CHILD", "agent.config.no_such_module")
    monkeypatch.setattr("agent.config.SYSTEM_CONFIG", Path("/nonexistent/hostward.yaml"))
    monkeypatch.delenv("HOSTWARD_CONFIG", raising=False)
    assert apart.load_apart(None).source == "<embedded default>"
