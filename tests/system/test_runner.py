"""The one runner: argument tuples, timeouts that kill the whole group, bounded output."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.system.runner import SubprocessRunner
from common.errors import CommandNotFound


def test_a_command_runs_with_arguments_as_data_never_through_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    result = SubprocessRunner().run(("echo", f"$(touch {marker})", "`id`"), timeout=5)
    assert result.ok
    assert result.stdout == f"$(touch {marker}) `id`\n".encode()
    assert not marker.exists()


def test_a_missing_program_is_a_clear_error() -> None:
    with pytest.raises(CommandNotFound, match="no-such-program-here: program not found"):
        SubprocessRunner().run(("no-such-program-here",), timeout=5)


def test_a_timeout_kills_the_whole_process_group() -> None:
    started = time.monotonic()
    result = SubprocessRunner().run(("sh", "-c", "sleep 30 & sleep 30; echo never"), timeout=0.5)
    assert result.timed_out
    assert not result.ok
    assert time.monotonic() - started < 5
    assert b"never" not in result.stdout


def test_output_is_cut_at_the_limit_and_says_so() -> None:
    result = SubprocessRunner().run(("head", "-c", "100000", "/dev/zero"), timeout=5, max_output=1000)
    assert len(result.stdout) == 1000
    assert result.truncated


def test_the_agent_environment_does_not_leak_into_children(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTIC_PASSWORD", "canary-secret-1234")
    result = SubprocessRunner().run(("env",), timeout=5, env={"WANTED": "yes"})
    assert b"canary-secret-1234" not in result.stdout
    assert b"WANTED=yes" in result.stdout
    assert b"LC_ALL=C.UTF-8" in result.stdout


def test_lines_stream_to_a_callback_as_they_come() -> None:
    seen: list[bytes] = []
    result = SubprocessRunner().run(("printf", "a\\nb\\nc\\n"), timeout=5, on_stdout_line=seen.append)
    assert seen == [b"a\n", b"b\n", b"c\n"]
    assert result.stdout == b"a\nb\nc\n"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_children_die_with_a_killed_parent(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    root = str(Path(__file__).resolve().parents[2])
    script = (
        f"import sys; sys.path.insert(0, {root!r})\n"
        "from collectors.system.runner import SubprocessRunner\n"
        f"SubprocessRunner().run(('sh', '-c', 'echo $$ > {pidfile}; exec sleep 60'), timeout=60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, "child never started"
        time.sleep(0.05)
    child = int(pidfile.read_text())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while _alive(child):
        assert time.monotonic() < deadline, "child outlived its killed parent"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.split(") ")[1][0] != "Z"
