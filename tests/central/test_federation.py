"""Several sites, end to end: central.yml renders a Prometheus per site and a federating central
one; the real servers run from those files on 127.0.0.1 and watch three real agents.

Site "hospital" watches pc-ok and pc-bad (which breaks SW-1), site "clinic" watches srv-clinic;
each site has its own Alertmanager and also sends to the central one. The central Prometheus
scrapes no agent: it federates from both sites.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from central_kit import (
    ALERTMANAGER,
    FAILING,
    HOSTWARD,
    PROMETHEUS,
    agent_config,
    alertmanager_config,
    daemon,
    free_tcp_port,
    get_bytes,
    get_json,
    wait_for,
    write_yaml,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "playbooks"))
from playbooks_kit import run_playbook

pytestmark = pytest.mark.slow
AGENTS = {
    "pc-ok": ("office_pc", "hospital"),
    FAILING.host: ("office_pc", "hospital"),
    "srv-clinic": ("server", "clinic"),
}
SITES = ("hospital", "clinic")
FAST = {f"hostward_{k}": "1s" for k in ("scrape_interval", "scrape_timeout", "evaluation_interval")}


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]


@dataclass
class Federation:
    work: Path
    prometheus: dict[str, Server]  # "hospital", "clinic", "central"
    alertmanager: dict[str, Server]

    def query(self, where: str, promql: str) -> list[dict[str, Any]]:
        url = f"{self.prometheus[where].url}/api/v1/query?" + _encode(promql)
        answer = get_json(url)
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def alerts(self, where: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = get_json(f"{self.alertmanager[where].url}/api/v2/alerts")
        return found


def _encode(promql: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"query": promql})


def _inventory(
    path: Path, work: Path, agents: dict[str, str], ports: dict[str, int], am: dict[str, int]
) -> Path:
    local = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ansible_host": "127.0.0.1",
    }
    agent_hosts = {
        name: {
            **local,
            "hostward_role": AGENTS[name][0],
            "hostward_site": AGENTS[name][1],
            "hostward_scrape_target": target,
        }
        for name, target in agents.items()
    }
    sites = {
        f"prom-{site}": {
            **local,
            "hostward_site": site,
            "hostward_prefix": str(work / site),
            "hostward_federate_port": ports[site],
            "hostward_alertmanager_targets": [f"127.0.0.1:{am[site]}"],
            "hostward_central_alertmanager_targets": [f"127.0.0.1:{am['central']}"],
        }
        for site in SITES
    }
    central = {"prom-central": {**local, "hostward_prefix": str(work / "central"),
                                "hostward_alertmanager_targets": [f"127.0.0.1:{am['central']}"]}}  # fmt: skip
    inventory = {
        "all": {
            "children": {
                "hostward_agents": {"children": {"hostward_linux": {"hosts": agent_hosts}}},
                "hostward_site_prometheus": {"hosts": sites},
                "hostward_central": {"hosts": central},
            }
        }
    }
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    return path


def _start_agents(stack: ExitStack, work: Path) -> dict[str, str]:
    targets = {}
    for name, (role, _) in AGENTS.items():
        home = work / name
        home.mkdir()
        port = free_tcp_port()
        config = write_yaml(home / "hostward.yaml", agent_config(home, name, role, port, {}))
        stack.enter_context(daemon([str(HOSTWARD), "run", "-c", str(config)], home / "agent.log"))
        targets[name] = f"127.0.0.1:{port}"
    for name, target in targets.items():
        url = f"http://{target}/metrics"
        wait_for(lambda: b"hostward_build_info" in get_bytes(url), 60, f"{name} serving")  # noqa: B023
    return targets


def _start(stack: ExitStack, argv: list[str], log: Path, url: str, ready: str) -> Server:
    proc = stack.enter_context(daemon(argv, log))
    wait_for(lambda: get_bytes(url + ready), 60, f"{argv[0]} at {url}")
    return Server(url, proc)


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    if PROMETHEUS is None or ALERTMANAGER is None:
        pytest.skip("needs Debian prometheus and prometheus-alertmanager (scripts/debian-deps.sh)")
    work = tmp_path_factory.mktemp("federation")
    ports = {where: free_tcp_port() for where in (*SITES, "central")}
    am_ports = {where: free_tcp_port() for where in (*SITES, "central")}
    with ExitStack() as stack:
        agents = _start_agents(stack, work)
        inventory = _inventory(work / "inventory.yml", work, agents, ports, am_ports)
        extra = {"hostward_central_render_only": True, "hostward_become": False,
                 "hostward_group": str(os.getgid()), "hostward_federate_interval": "1s",
                 "hostward_federate_timeout": "1s", **FAST}  # fmt: skip
        run = run_playbook("central.yml", inventory, work, extra)
        assert run.rc == 0, run.output[-4000:]
        alertmanagers = {}
        for where in (*SITES, "central"):
            home = work / f"am-{where}"
            home.mkdir()
            argv = [ALERTMANAGER, f"--config.file={alertmanager_config(home)}", f"--storage.path={home}",
                    f"--web.listen-address=127.0.0.1:{am_ports[where]}",
                    "--cluster.listen-address="]  # fmt: skip
            url = f"http://127.0.0.1:{am_ports[where]}"
            alertmanagers[where] = _start(stack, argv, home / "alertmanager.log", url, "/api/v2/status")
        servers = {}
        for where in (*SITES, "central"):
            etc = work / where / "etc/prometheus"
            argv = [PROMETHEUS, f"--config.file={etc / 'prometheus.yml'}",
                    f"--storage.tsdb.path={work / where / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{ports[where]}",
                    "--rules.alert.resend-delay=2s"]  # fmt: skip
            servers[where] = _start(
                stack, argv, work / f"prometheus-{where}.log", f"http://127.0.0.1:{ports[where]}", "/-/ready"
            )
        yield Federation(work, servers, alertmanagers)


def _fleet_report(fed: Federation, tmp_path: Path) -> str:
    out = tmp_path / "fleet.html"
    argv = [
        str(HOSTWARD),
        "report",
        "fleet",
        "--prometheus",
        fed.prometheus["central"].url,
        "--out",
        str(out),
    ]
    done = subprocess.run([*argv, "--lang", "en"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out.read_text(encoding="utf-8")


def _site_hosts(fed: Federation, site: str, count: int) -> set[str]:
    """The hosts `site` scrapes, once `count` of them are up."""
    up = fed.query(site, 'up{job="hostward"} == 1')
    return {r["metric"]["host"] for r in up} if len(up) == count else set()


def _compliance(fed: Federation, where: str) -> list[dict[str, Any]]:
    return fed.query(
        where, f'ALERTS{{alertname="HostwardComplianceFailure", alertstate="firing", host="{FAILING.host}"}}'
    )


def test_each_site_scrapes_only_its_own_agents_and_the_central_one_none(federation: Federation) -> None:
    for site in SITES:
        mine = {h for h, (_, s) in AGENTS.items() if s == site}
        assert wait_for(lambda: _site_hosts(federation, site, len(mine)), 60, "scraping") == mine  # noqa: B023
    federating = 'up{job="hostward-federate"} == 1'
    sites = wait_for(lambda: len(federation.query("central", federating)) == len(SITES), 60, "both sites")
    assert sites and {r["metric"]["site"] for r in federation.query("central", federating)} == set(SITES)
    jobs = get_json(f"{federation.prometheus['central'].url}/api/v1/targets")["data"]["activeTargets"]
    assert {t["labels"]["job"] for t in jobs} <= {"prometheus", "hostward-federate"}


def test_an_alert_raised_at_a_site_appears_centrally_with_its_site(federation: Federation) -> None:
    (alert,) = wait_for(lambda: _compliance(federation, "central"), 90, "the site's alert, federated")
    assert (alert["metric"]["site"], alert["metric"]["rule"], alert["metric"]["check"]) == (
        "hospital",
        FAILING.rule,
        FAILING.check,
    )
    mine = wait_for(
        lambda: [
            a
            for a in federation.alerts("hospital")
            if a["labels"]["alertname"] == "HostwardComplianceFailure"
        ],
        60,
        "the site's own Alertmanager",
    )
    assert [a["labels"]["site"] for a in mine] == ["hospital"]


def test_report_fleet_against_the_central_server_names_the_hosts_of_both_sites(
    federation: Federation, tmp_path: Path
) -> None:
    wait_for(
        lambda: len(federation.query("central", "hostward_audit_last_run_timestamp_seconds")) == len(AGENTS),
        90,
        "audits federated",
    )
    html = _fleet_report(federation, tmp_path)
    for host in AGENTS:
        assert host in html
    assert "site=hospital" in html and "site=clinic" in html


def test_a_stopped_site_is_site_unreachable_centrally_and_a_cut_off_site_keeps_alerting(
    federation: Federation, tmp_path: Path
) -> None:
    wait_for(lambda: _compliance(federation, "central"), 90, "the site's alert, federated")
    clinic = federation.prometheus["clinic"].proc
    clinic.terminate()
    clinic.wait(30)
    cut_at = time.time()
    # The expression holds at once (pending); it fires after the rule's 5 minutes (promtool-tested).
    unreachable = 'ALERTS{alertname="HostwardSiteUnreachable"}'
    (alert,) = wait_for(lambda: federation.query("central", unreachable), 60, "site unreachable, centrally")
    assert alert["metric"]["site"] == "clinic" and alert["metric"]["severity"] == "critical"
    # The site's last federated series linger centrally for the 5-minute lookback (they carry the
    # site's own timestamps): nothing about a host may be newer than the cut.
    down = 'ALERTS{alertname=~"HostwardAgentDown|HostwardAgentsAbsent|HostwardHostDown.*"}'
    assert federation.query("central", f"timestamp({down}) > {cut_at:.3f}") == []
    assert "its site cannot be reached" in _fleet_report(federation, tmp_path)

    # Now the hospital is cut off from headquarters: the central side stops entirely.
    for server in (federation.prometheus["central"], federation.alertmanager["central"]):
        server.proc.terminate()
        server.proc.wait(30)
    cut = time.time()

    def refreshed() -> list[dict[str, Any]]:
        own = [
            a
            for a in federation.alerts("hospital")
            if a["labels"]["alertname"] == "HostwardComplianceFailure"
        ]
        return [a for a in own if a["status"]["state"] == "active" and _stamp(a["updatedAt"]) > cut + 2]

    assert wait_for(refreshed, 60, "the hospital's alert, still sent to its own Alertmanager")
    assert _compliance(federation, "hospital") != []


def _stamp(rfc3339: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()
