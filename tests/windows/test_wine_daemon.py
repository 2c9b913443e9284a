"""`hostward run` and the Windows service under Wine: /metrics and the status page, a config
reload without SIGHUP (the file changed), a clean stop by `hostward stop` and by the service
manager (pywin32's SvcStop), each journaled, exit 0."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from testkit import free_port, wait_for
from wine_kit import WineBox, base_env


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def _config(box: WineBox, name: str, port: int) -> tuple[Path, Path]:
    folder = box.scratch(name)
    text = (
        "version: 1\n"
        f"state_dir: '{box.win_path(folder)}\\state'\n"
        f"exporter: {{listen: '127.0.0.1:{port}'}}\n"
        "collect: {schedule: {every: 1h, timeout: 30s}}\n"
    )
    (folder / "hostward.yaml").write_text(text, encoding="utf-8")
    return folder / "hostward.yaml", folder / "state"


def _journal(state: Path) -> list[dict[str, object]]:
    path = state / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _kinds(state: Path) -> list[object]:
    """The agent's own life in the journal (jobs that ran meanwhile, such as an audit, journal too)."""
    return [entry["kind"] for entry in _journal(state) if str(entry["kind"]).startswith("agent.")]


def test_the_agent_serves_reloads_an_edited_config_and_stops_on_hostward_stop(wine_box: WineBox) -> None:
    port = free_port()
    config, state = _config(wine_box, "daemon-control", port)
    proc = wine_box.start_hostward("run", "-c", wine_box.win_path(config))
    try:
        wait_for(lambda: _get(f"http://127.0.0.1:{port}/metrics")[0] == 200, timeout=60, what="/metrics")
        status, page = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "hostward" in page
        config.write_text(
            config.read_text(encoding="utf-8").replace("every: 1h", "every: 2h"), encoding="utf-8"
        )
        wait_for(lambda: "agent.reload" in _kinds(state), timeout=30, what="the reload of the edited config")
        stop = wine_box.hostward("stop", "-c", wine_box.win_path(config), "--wait", "30")
        assert stop.returncode == 0, stop.describe()
        assert proc.popen.wait(30) == 0
    finally:
        _out, err = proc.stop()
    assert _kinds(state) == ["agent.start", "agent.reload", "agent.stop"], err.decode("cp1252", "replace")
    assert [e for e in _journal(state) if e["kind"] == "agent.stop"][-1]["data"] == {
        "by": "stop request", "version": "0.1.0"
    }
    assert not (state / "stop-request").exists()
    assert b"the config file changed: reloading it" in err


def _sc_query(box: WineBox) -> str:
    done = subprocess.run(
        ["wine", "sc", "query", "hostward"],
        env=base_env(box.prefix),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return done.stdout.decode("cp1252", "replace")


def test_the_pywin32_service_installs_serves_and_stops_cleanly_under_wines_service_manager(
    wine_box: WineBox,
) -> None:
    port = free_port()
    config, state = _config(wine_box, "daemon-service", port)
    installed = wine_box.hostward("service", "install", "-c", wine_box.win_path(config))
    assert installed.returncode == 0, installed.describe()
    removed = None
    try:
        assert "pythonservice.exe" in installed.out("cp1252")
        started = wine_box.hostward("service", "start")
        assert started.returncode == 0, started.describe()
        assert "running" in started.out("cp1252")
        wait_for(lambda: _get(f"http://127.0.0.1:{port}/metrics")[0] == 200, timeout=60, what="/metrics")
        assert "RUNNING" in _sc_query(wine_box)
        stopped = wine_box.hostward("service", "stop")
        assert stopped.returncode == 0, stopped.describe()
        assert "stopped" in stopped.out("cp1252")
        assert "STOPPED" in _sc_query(wine_box)
        removed = wine_box.hostward("service", "remove")
    finally:
        if removed is None:
            wine_box.hostward("service", "remove")
    assert removed.returncode == 0, removed.describe()
    assert _kinds(state) == ["agent.start", "agent.stop"]
    assert [e for e in _journal(state) if e["kind"] == "agent.stop"][-1]["data"] == {
        "by": "service", "version": "0.1.0"
    }
    assert "exporter listening" in (state / "service.log").read_text(encoding="utf-8")
