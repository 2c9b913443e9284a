"""End to end: a running `hostward run` scraped by a real Debian Prometheus on loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import free_port, wait_for

HOSTWARD = Path(sys.executable).parent / "hostward"
PROMETHEUS = shutil.which("prometheus")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(PROMETHEUS is None, reason="needs Debian prometheus")]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[str]:
    """`hostward run` with a temp config; yields its URL."""
    port = free_port()
    config = tmp_path / "hostward.yaml"
    config.write_text(
        f'version: 1\nstate_dir: {tmp_path / "state"}\nexporter:\n  listen: "127.0.0.1:{port}"\n'
        "collect:\n  schedule: {every: 1s}\n",
        encoding="utf-8",
    )
    log = (tmp_path / "agent.log").open("w")
    proc = subprocess.Popen([str(HOSTWARD), "run", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: b"hostward_memory_total_bytes" in get(url + "metrics"), 30, "the agent's metrics")
        yield url
    finally:
        proc.terminate()
        assert proc.wait(15) == 0, (tmp_path / "agent.log").read_text()
        log.close()


@pytest.fixture
def prometheus(tmp_path: Path, agent: str) -> Iterator[str]:
    port = free_port()
    target = urllib.parse.urlsplit(agent).netloc
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: hostward\n    static_configs: [{{targets: ['{target}']}}]\n",
        encoding="utf-8",
    )
    assert PROMETHEUS is not None
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def query(prometheus: str, promql: str) -> list[dict[str, object]]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    answer = json.loads(get(url))
    assert answer["status"] == "success"
    result: list[dict[str, object]] = answer["data"]["result"]
    return result


def test_prometheus_scrapes_the_running_agent(prometheus: str, agent: str) -> None:
    up = wait_for(lambda: query(prometheus, 'up{job="hostward"} == 1'), 60, "up == 1")
    assert isinstance(up, list) and len(up) == 1
    memory = wait_for(lambda: query(prometheus, "hostward_memory_total_bytes > 0"), 30, "a host metric")
    assert isinstance(memory, list) and float(memory[0]["value"][1]) > 0
    # The agent's `job` label meets Prometheus' target label `job`: Prometheus keeps both,
    # renaming ours to exported_job (honor_labels: false, the default).
    jobs = wait_for(
        lambda: query(prometheus, 'hostward_job_success{job="hostward", exported_job="collect"} == 1'),
        30,
        "collect",
    )
    assert jobs
    # Nothing unexpected: no series for a job that never ran.
    assert query(prometheus, 'hostward_job_success{exported_job="nonexistent"}') == []


def test_the_running_agent_serves_its_status_page(agent: str) -> None:
    page = get(agent + "?lang=en").decode()
    assert 'id="host-health"' in page and 'data-job="collect"' in page
