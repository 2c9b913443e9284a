"""The trap receiver in the real agent (`hostward run`): net-snmp's snmptrap -> the UPS on
battery on /metrics, BAK-6 asked of the scheduler, the event journaled; and a reload that turns
the receiver off closes its port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest
from devices_kit import free_udp_port, secret
from testkit import AgentProcess, free_port

from agent.journal import Journal

SNMPTRAP = shutil.which("snmptrap")
pytestmark = pytest.mark.skipif(SNMPTRAP is None, reason="needs net-snmp's snmptrap (Debian: snmp)")
COMMUNITY = "daemon-trap-c0mmunity"


def config_text(tmp: Path, http: int, traps: int, dead: int, listen: bool) -> str:
    receiver = f'devices_traps: {{listen: "127.0.0.1:{traps}"}}\n' if listen else ""
    return (
        f"version: 1\nstate_dir: {tmp / 'state'}\n"
        f'exporter: {{listen: "127.0.0.1:{http}"}}\n'
        "collect: {schedule: {every: 1h}}\naudit: {schedule: {every: 1h}}\n"
        "devices_schedule: {poll: {every: 1h}, power: {every: 1h, timeout: 30s}}\n"
        f'devices:\n  - {{name: ups-1, kind: ups, address: "127.0.0.1:{dead}",'
        f' snmp: {{version: "2c", community_file: "{secret(tmp / "community", COMMUNITY)}", timeout: 1s}}}}\n'
        + receiver
    )


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_snmptrap_to_the_running_agent_reaches_metrics_bak6_and_the_journal(tmp_path: Path) -> None:
    http, traps, dead = free_port(), free_udp_port(), free_udp_port()
    path = tmp_path / "hostward.yaml"
    path.write_text(config_text(tmp_path, http, traps, dead, listen=True), encoding="utf-8")
    agent = AgentProcess(tmp_path, path)
    try:
        url = agent.url()
        agent.wait_for(lambda: not port_free(traps), what="the trap port bound")

        def metrics() -> str:
            with urllib.request.urlopen(f"{url}/metrics", timeout=5) as answer:
                return str(answer.read().decode())

        # after the first power round (the UPS does not answer polls; its trap still counts)
        agent.wait_for(lambda: 'hostward_device_up{device="ups-1"} 0.0' in metrics(), what="the first round")
        (tmp_path / "snmp").mkdir()
        env = {"SNMP_PERSISTENT_DIR": str(tmp_path / "snmp"), "SNMPCONFPATH": str(tmp_path / "snmp"),
               "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}  # fmt: skip
        assert SNMPTRAP is not None
        on_battery = [SNMPTRAP, "-v", "2c", "-c", COMMUNITY, f"127.0.0.1:{traps}", "", "1.3.6.1.2.1.33.2.1"]
        subprocess.run(on_battery, check=True, env=env, timeout=20, capture_output=True)
        received = 'hostward_traps_received_total{kind="on_battery"} 1.0'
        agent.wait_for(lambda: received in metrics(), what="the trap counted")
        assert 'hostward_ups_on_battery{device="ups-1",kind="ups",site=""} 1.0' in metrics()
        # reload without the receiver: the port is closed
        path.write_text(config_text(tmp_path, http, traps, dead, listen=False), encoding="utf-8")
        agent.proc.send_signal(1)  # SIGHUP
        agent.wait_for(lambda: port_free(traps), what="the trap port released")
    finally:
        assert agent.stop() == 0
    events = [e.data for e in Journal(tmp_path / "state").entries() if e.kind == "device.event"]
    assert {"device": "ups-1", "kind": "on_battery", "source": "trap"}.items() <= events[-1].items()
    # run_now("backup") answered: this host has no backup configured
    assert events[-1]["text"] == "UPS ups-1 on battery; no backup is configured on this host"
