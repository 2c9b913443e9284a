"""Fixtures for the report tests: a real fleet (two `hostward run` agents and a dead target
scraped by a real Debian Prometheus, once per session) and a state for the daily record."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from reports_kit import (
    FAILING_CHECK,
    HOSTILE_SITE,
    HOSTWARD,
    PROMETHEUS,
    SITE_POLICY,
    Fleet,
    agent_config,
    free_port,
    prometheus_config,
    query,
    wait_for,
)

from agent.state import State
from policies.library import load_library


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    if PROMETHEUS is None:
        pytest.skip("needs Debian prometheus")
    root = tmp_path_factory.mktemp("fleet")
    started = time.time()
    policies = root / "policies"
    policies.mkdir()
    (policies / "site.yaml").write_text(SITE_POLICY, encoding="utf-8")
    # Only the site check runs: the library's checks judge this test machine, not the report.
    library, _ = load_library()
    disabled = [c.id for c in library.checks]
    ports = {"good": free_port(), "bad": free_port(), "dead": free_port()}
    deny = "parameters: {deny: [prometheus]}"
    override = f"  overrides:\n    - {{check: {FAILING_CHECK}, host: pc-bad, {deny}}}\n"
    configs = {
        "good": agent_config(root, "pc-good", ports["good"], policies, disabled, ""),
        "bad": agent_config(root, "pc-bad", ports["bad"], policies, disabled, override),
    }
    instance = {name: f"127.0.0.1:{port}" for name, port in ports.items()}
    scrape = prometheus_config(root, {
        instance["good"]: {"host": "pc-good", "site": "main-building"},
        instance["bad"]: {"host": "pc-bad", "site": HOSTILE_SITE},
        instance["dead"]: {"site": "annex"},  # no host label: named by its instance
    })  # fmt: skip
    prom_port = free_port()
    fleet = Fleet(
        f"http://127.0.0.1:{prom_port}", instance["good"], instance["bad"], instance["dead"],
        configs["good"], started,
    )  # fmt: skip
    logs = []
    try:
        for name, config in configs.items():
            log = (root / f"{name}.log").open("wb")
            logs.append(log)
            cmd = [str(HOSTWARD), "run", "-c", str(config)]
            fleet.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
        log = (root / "prometheus.log").open("wb")
        logs.append(log)
        argv = [PROMETHEUS, f"--config.file={scrape}", f"--storage.tsdb.path={root / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}"]  # fmt: skip
        fleet.procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))
        wait_for(lambda: urllib.request.urlopen(fleet.prometheus + "/-/ready", timeout=2), 30, "Prometheus")
        audited = 'count by (instance) (hostward_check_status{job="hostward"})'
        wait_for(lambda: len(query(fleet.prometheus, audited)) == 2, 45, "both agents' audits scraped")
        dead = f'up{{instance="{instance["dead"]}"}} == 0'
        wait_for(lambda: query(fleet.prometheus, dead), 15, "the dead target scraped")
        yield fleet
    finally:
        for proc in fleet.procs:
            proc.terminate()
        for proc in fleet.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    st = State.open(tmp_path / "state")
    yield st
    st.close()
