"""Controlling the agent without signals (Windows has none): config-file watch and `hostward stop`."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.control import ConfigWatch, clear_stop, request_stop, stop_requested
from agent.journal import Journal

WriteConfig = Callable[[str], Path]
Hostward = Callable[..., subprocess.CompletedProcess[str]]

CONFIG = """\
version: 1
state_dir: {state}
exporter: {listen: "127.0.0.1:PORT"}
collect:
  schedule: {every: 1h, timeout: 5s}
"""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_changed_config_file_is_reported_once_after_it_has_settled_for_one_poll(tmp_path: Path) -> None:
    path = tmp_path / "hostward.yaml"
    path.write_text("version: 1\n")
    clock = Clock()
    watch = ConfigWatch(path, poll=3.0, monotonic=clock)
    clock.now += 3
    assert not watch.changed()  # nothing changed
    path.write_text("version: 1\ncollect: {}\n")
    clock.now += 1
    assert not watch.changed()  # between polls: not even looked at
    clock.now += 2
    assert not watch.changed()  # seen once: may still be mid-save
    path.write_text("version: 1\ncollect: {enabled: true}\n")
    clock.now += 3
    assert not watch.changed()  # moved again: wait once more
    clock.now += 3
    assert watch.changed()
    clock.now += 3
    assert not watch.changed()  # reported once only


def test_a_file_read_for_a_sighup_reload_is_not_reported_again(tmp_path: Path) -> None:
    path = tmp_path / "hostward.yaml"
    path.write_text("version: 1\n")
    clock = Clock()
    watch = ConfigWatch(path, poll=3.0, monotonic=clock)
    path.write_text("version: 1\ncollect: {}\n")
    watch.mark_loaded()
    for _ in range(3):
        clock.now += 3
        assert not watch.changed()


def test_a_deleted_config_file_counts_as_a_change_and_the_embedded_default_is_never_watched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hostward.yaml"
    path.write_text("version: 1\n")
    clock = Clock()
    watch = ConfigWatch(path, poll=1.0, monotonic=clock)
    path.unlink()
    clock.now += 1
    assert not watch.changed()
    clock.now += 1
    assert watch.changed()  # the reload then refuses it and keeps the running config
    nothing = ConfigWatch(None, poll=1.0, monotonic=clock)
    clock.now += 10
    assert not nothing.changed()


def test_a_stop_request_is_a_private_file_that_clear_stop_removes(tmp_path: Path) -> None:
    assert not stop_requested(tmp_path)
    assert not clear_stop(tmp_path)
    path = request_stop(tmp_path)
    assert stop_requested(tmp_path)
    assert path.stat().st_mode & 0o077 == 0
    assert clear_stop(tmp_path)
    assert not stop_requested(tmp_path)


def test_editing_the_config_file_reloads_it_without_sighup_and_a_broken_edit_is_refused_once(
    write_config: WriteConfig, start_agent: Callable[..., Any], port: int, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    path = write_config(CONFIG.replace("PORT", str(port)))
    agent = start_agent(path)
    agent.banner()
    path.write_text(path.read_text() + "collect:\n  shedule: {every: 1s}\n")
    agent.wait_for(lambda: "reload refused" in agent.stderr, what="the refusal")
    assert f"{path}:6: collect: duplicate key" in agent.stderr
    fixed = CONFIG.replace("PORT", str(port)).replace("{state}", str(state)).replace("1h,", "2h,")
    path.write_text(fixed)
    agent.wait_for(lambda: "reloaded the config" in agent.stderr, what="the reload")
    assert agent.stderr.count("reload refused") == 1
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
    # the agent's own life: a job that ran meanwhile (the audit, in its worker) journals too
    kinds = [e.kind for e in Journal(state).entries() if e.kind.startswith("agent.")]
    assert kinds == ["agent.start", "agent.reload"]
    assert agent.stop() == 0


def test_hostward_stop_stops_the_agent_cleanly_and_waits_until_it_has(
    write_config: WriteConfig, start_agent: Callable[..., Any], hostward: Hostward, port: int, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    path = write_config(CONFIG.replace("PORT", str(port)))
    state.mkdir(mode=0o700)
    request_stop(state)  # left from before: removed at start, not obeyed
    agent = start_agent(path)
    agent.banner()
    assert "removed a stop request left from before this start" in agent.stderr
    done = hostward("stop", "-c", str(path), "--wait", "20")
    assert done.returncode == 0, done.stderr
    assert "the agent took the stop request" in done.stdout
    assert agent.proc.wait(10) == 0
    entries = list(Journal(state).entries())
    assert [e.kind for e in entries] == ["agent.start", "agent.stop"]
    assert entries[-1].data["by"] == "stop request"
    assert not stop_requested(state)


def test_hostward_stop_without_a_running_agent_exits_1_and_withdraws_its_request(
    write_config: WriteConfig, hostward: Hostward, port: int, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    path = write_config(CONFIG.replace("PORT", str(port)))
    done = hostward("stop", "-c", str(path), "--wait", "0.5")
    assert done.returncode == 1
    assert "no agent took the stop request" in done.stderr
    assert not stop_requested(state)


def test_the_service_is_hosted_by_pythonservice_next_to_the_bundles_python_with_an_absolute_config() -> None:
    import pytest

    from agent.winservice import CLASS_STRING, install_spec

    spec = install_spec(
        r"C:\Program Files\hostward\python\python.exe", r"C:\ProgramData\hostward\hostward.yaml"
    )
    assert spec.host_exe == r"C:\Program Files\hostward\python\pythonservice.exe"
    assert spec.class_string == CLASS_STRING == "agent.winservice.HostwardService"
    assert spec.config == r"C:\ProgramData\hostward\hostward.yaml"
    with pytest.raises(ValueError, match="absolute"):
        install_spec(r"C:\Program Files\hostward\python\python.exe", "hostward.yaml")


def test_the_service_entry_point_applies_the_console_policy_itself_since_it_skips_cli_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import threading

    from agent.winservice import SERVICE_LOG, run_service

    streams = [io.TextIOWrapper(io.BytesIO(), encoding="cp1252", errors="strict") for _ in range(2)]
    monkeypatch.setattr(sys, "stdout", streams[0])
    monkeypatch.setattr(sys, "stderr", streams[1])
    config = tmp_path / "配置" / "hostward.yaml"
    config.parent.mkdir()
    config.write_text("nonsense_key: 1\n", encoding="utf-8")
    assert run_service(str(config), threading.Event()) == 2
    assert (sys.stdout, sys.stderr) == tuple(streams)  # given back after the service.log
    assert [s.errors for s in streams] == ["replace", "replace"]
    print("主机 Host", file=sys.stderr)  # a cp1252 stream: replaced, no UnicodeEncodeError
    sys.stderr.flush()
    assert streams[1].buffer.getvalue() == b"?? Host\n"  # type: ignore[attr-defined]
    assert "unknown key" in (config.parent / SERVICE_LOG).read_text(encoding="utf-8")


def test_hostward_service_on_linux_exits_2_and_points_at_the_systemd_unit(hostward: Hostward) -> None:
    done = hostward("service", "install")
    assert done.returncode == 2
    assert "packaging/systemd/hostward.service" in done.stderr


OFF_MAIN_THREAD = """
import io, sys, threading, time
from agent import daemon
from agent.config import load_config
stop, out, codes = threading.Event(), io.StringIO(), []
loaded = load_config(sys.argv[1])
serve = lambda: codes.append(daemon.serve(loaded, sys.argv[1], lambda: (), out, stop))
worker = threading.Thread(target=serve)
worker.start()
deadline = time.monotonic() + 30
while "status page" not in out.getvalue() and time.monotonic() < deadline:
    time.sleep(0.05)
stop.set()
worker.join(30)
print(codes, "status page" in out.getvalue())
"""


def test_an_agent_run_off_the_main_thread_stops_cleanly_when_its_stop_event_is_set(
    write_config: WriteConfig, port: int, tmp_path: Path
) -> None:
    """What the Windows service does: no signal handlers off the main thread; SvcStop sets the
    event. (In a child process: the agent applies its own limits to the process it runs in.)"""
    import sys

    path = write_config(CONFIG.replace("PORT", str(port)))
    done = subprocess.run(
        (sys.executable, "-c", OFF_MAIN_THREAD, str(path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.split() == ["[0]", "True"], done.stderr
    entries = list(Journal(tmp_path / "state").entries())
    assert [e.kind for e in entries] == ["agent.start", "agent.stop"]
    assert entries[-1].data["by"] == "service"
