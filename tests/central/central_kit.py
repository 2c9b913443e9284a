"""A small real fleet for the central-side tests, reusable by every test of tests/central.

Three `hostward run` agents (own configs and state dirs, loopback ports), the Debian Prometheus
loaded with the shipped rules (`playbooks/files/prometheus/hostward_rules.yml`) and the Debian
Alertmanager with the shipped sample config. Everything listens on 127.0.0.1 only.

- `pc-ok` (office_pc) and `srv-room` (server) are healthy: the whole policy library runs on this
  live host, and any check that fails here is waived (waived failures stay visible, never alert).
  `srv-room` also polls a UPS and a room sensor (snmpsim recordings) and holds two restic
  repositories, backed up, verified, drilled and copied offline before it starts.
- `pc-bad` (office_pc) breaks SW-1 for sure: `sw.no_forbidden_software` is overridden for that
  host to forbid `dpkg`, which every Debian host has installed. Nothing waives it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "devices"))
from devices_kit import Snmpsim, free_tcp_port, secret, stop
from testkit import wait_for

from policies.library import load_library

PROJECT = Path(__file__).resolve().parents[2]
RULES = PROJECT / "playbooks/files/prometheus/hostward_rules.yml"
RULES_TEST = PROJECT / "playbooks/files/prometheus/hostward_rules_test.yml"
ALERTMANAGER_CONFIG = PROJECT / "playbooks/files/alertmanager/alertmanager.yml"
DASHBOARD = PROJECT / "playbooks/files/grafana/hostward-fleet.json"
HOSTWARD = Path(sys.executable).parent / "hostward"
PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
PLACEHOLDER_RECEIVER = "http://127.0.0.1:9099"
SCRAPE_INTERVAL = "1s"


@dataclass(frozen=True)
class Failing:
    host: str
    check: str
    rule: str


FAILING = Failing("pc-bad", "sw.no_forbidden_software", "SW-1")


@dataclass(frozen=True)
class Agent:
    name: str
    role: str
    url: str  # http://127.0.0.1:PORT/
    config: Path
    state_dir: Path

    @property
    def instance(self) -> str:
        """Prometheus' `instance` label of this agent."""
        return urllib.parse.urlsplit(self.url).netloc


@dataclass(frozen=True)
class Fleet:
    prometheus: str  # http://127.0.0.1:PORT
    alertmanager: str
    agents: tuple[Agent, ...]
    failing: Failing
    workdir: Path

    def agent(self, name: str) -> Agent:
        return next(a for a in self.agents if a.name == name)

    @property
    def healthy(self) -> tuple[Agent, ...]:
        return tuple(a for a in self.agents if a.name != self.failing.host)

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": promql, **({"time": str(at)} if at is not None else {})}
        answer = get_json(f"{self.prometheus}/api/v1/query?" + urllib.parse.urlencode(params))
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """Alertmanager's active alerts (API v2)."""
        answer: list[dict[str, Any]] = get_json(f"{self.alertmanager}/api/v2/alerts")
        return answer


def get_bytes(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body


def get_json(url: str) -> Any:
    return json.loads(get_bytes(url))


def post_json(url: str, body: Any) -> None:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200, response.status


class _NoAliases(yaml.SafeDumper):
    """Our strict loader refuses anchors; never write any."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    path.write_text(yaml.dump(dict(data), Dumper=_NoAliases, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@contextmanager
def daemon(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            stop(proc)


def _schedule(every: str, enabled: bool = True) -> dict[str, Any]:
    return {"every": every, "jitter": "0s", "enabled": enabled}


SYSTEMD_CHECKS = ("sys.firewall_on", "sys.time_sync", "sys.audit_logging", "av.auto_update_linux")


def agent_config(work: Path, name: str, role: str, port: int, extra: Mapping[str, Any]) -> dict[str, Any]:
    library, problems = load_library()
    assert problems == []
    waivers = [
        {"check": spec.id, "approver": "test lead", "reason": "test host", "expires": "2099-12-31"}
        for spec in library.checks
        if name != FAILING.host or spec.id != FAILING.check
    ]
    overrides = [{"check": FAILING.check, "host": FAILING.host, "parameters": {"deny": ["dpkg"]}}]
    return {
        "version": 1,
        "state_dir": str(work / "state"),
        "host": {"role": role, "site": "lab", "name": name},
        "exporter": {"listen": f"127.0.0.1:{port}"},
        "collect": {"schedule": _schedule("2s")},
        "audit": {
            "schedule": _schedule("1h"),
            "waivers": waivers,
            "overrides": overrides,
            # They ask systemd about units; a test machine or container without systemd as PID 1
            # cannot answer, so they are honestly `error` there (an "undetermined" alert pending).
            "disabled_checks": list(SYSTEMD_CHECKS),
            # NET-3 with no canary is `error: not configured`: a closed loopback UDP port that
            # never answers (nothing leaves 127.0.0.1)
            "isolation": {"dns_canaries": ["127.0.0.1:1"], "timeout": "0.2s"},
        },
        **extra,
    }


def backup_section(work: Path) -> dict[str, Any]:
    source = work / "data"
    source.mkdir()
    (source / "patients.csv").write_text("id,name\n1,张三\n", encoding="utf-8")
    password = secret(work / "restic.pass", "fleet-test-password")
    repo = {"password_file": password}
    return {
        "sources": [str(source)],
        "schedule": _schedule("24h", enabled=False),
        "repositories": {
            "primary": {**repo, "url": str(work / "repo1")},
            "secondary": {**repo, "url": str(work / "repo2")},
        },
        "verify": {"schedule": _schedule("24h", enabled=False), "read_data_parts": 1},
        "drill": {"schedule": _schedule("24h", enabled=False), "scratch_dir": str(work / "drill")},
        "retention": {"schedule": _schedule("24h", enabled=False)},
    }


def devices_section(snmpsim: Snmpsim) -> list[dict[str, Any]]:
    def device(name: str, kind: str, port: int, recording: str) -> dict[str, Any]:
        snmp = {"version": "2c", "community_file": str(snmpsim.community_dir / recording), "timeout": 1}
        return {"name": name, "kind": kind, "address": f"127.0.0.1:{port}", "site": "lab", "snmp": snmp}

    return [
        device("ups-a", "ups", snmpsim.ports[0], "ups-mains"),
        device("room-1", "sensor", snmpsim.ports[1], "room-sensor"),
    ]


def prepare_backups(config: Path) -> None:
    """Init, back up, verify, drill (a sample and in full) and write the offline copy (BAK-1) with
    the CLI, so the agent starts with a full record and a healthy backup raises no alert."""
    media = config.parent / "offline-media"
    media.mkdir(exist_ok=True)
    offline = ["backup", "offline", "--to", str(media), "--media-id", "USB-0001"]
    drills = (["backup", "drill"], ["backup", "drill", "--full"])  # the full one: ROOM-2's alerts
    for argv in (["backup", "init"], ["backup", "run"], ["backup", "verify"], *drills, offline):
        done = subprocess.run(
            [str(HOSTWARD), *argv, "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"hostward {' '.join(argv)}: {done.stdout}{done.stderr}"


def prometheus_config(work: Path, agents: tuple[Agent, ...], alertmanager_port: int) -> Path:
    targets = [
        {"targets": [a.instance], "labels": {"host": a.name, "role": a.role, "site": "lab"}} for a in agents
    ]
    return write_yaml(
        work / "prometheus.yml",
        {
            "global": {
                "scrape_interval": SCRAPE_INTERVAL,
                "evaluation_interval": "1s",
                "scrape_timeout": "1s",
            },
            "rule_files": [str(RULES)],
            "alerting": {
                "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]
            },
            "scrape_configs": [{"job_name": "hostward", "static_configs": targets}],
        },
    )


def alertmanager_config(work: Path) -> Path:
    """The shipped sample, its placeholder receiver pointed at a closed loopback port."""
    text = ALERTMANAGER_CONFIG.read_text(encoding="utf-8")
    assert PLACEHOLDER_RECEIVER in text
    path = work / "alertmanager.yml"
    path.write_text(text.replace(PLACEHOLDER_RECEIVER, f"http://127.0.0.1:{free_tcp_port()}"), "utf-8")
    return path


def start_fleet(stack: ExitStack, work: Path, snmpsim: Snmpsim) -> Fleet:
    """Starts everything on `stack` (closing it stops everything) and waits until all is up."""
    assert PROMETHEUS is not None and ALERTMANAGER is not None
    specs = (("pc-ok", "office_pc"), (FAILING.host, "office_pc"), ("srv-room", "server"))
    agents = []
    for name, role in specs:
        home = work / name
        home.mkdir()
        port = free_tcp_port()
        extra: dict[str, Any] = {}
        if name == "srv-room":
            extra = {
                "backup": backup_section(home),
                "devices": devices_section(snmpsim),
                "devices_schedule": {"poll": _schedule("5s"), "power": _schedule("5s")},
            }
        config = write_yaml(home / "hostward.yaml", agent_config(home, name, role, port, extra))
        agents.append(Agent(name, role, f"http://127.0.0.1:{port}/", config, home / "state"))
    for agent in agents:  # all up before the first scrape: no `up == 0`, no pending alert
        if agent.name == "srv-room":
            prepare_backups(agent.config)
        stack.enter_context(
            daemon([str(HOSTWARD), "run", "-c", str(agent.config)], agent.state_dir.parent / "agent.log")
        )
    for agent in agents:
        metrics = agent.url + "metrics"
        wait_for(lambda: b"hostward_build_info" in get_bytes(metrics), 30, f"{agent.name} serving")  # noqa: B023
    am_port, prom_port = free_tcp_port(), free_tcp_port()
    am_argv = [
        ALERTMANAGER, f"--config.file={alertmanager_config(work)}", f"--storage.path={work / 'am'}",
        f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=",
    ]  # fmt: skip
    stack.enter_context(daemon(am_argv, work / "alertmanager.log"))
    wait_for(lambda: get_json(f"http://127.0.0.1:{am_port}/api/v2/status"), 30, "Alertmanager")
    prom_argv = [
        PROMETHEUS, f"--config.file={prometheus_config(work, tuple(agents), am_port)}",
        f"--storage.tsdb.path={work / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}",
    ]  # fmt: skip
    stack.enter_context(daemon(prom_argv, work / "prometheus.log"))
    fleet = Fleet(
        f"http://127.0.0.1:{prom_port}", f"http://127.0.0.1:{am_port}", tuple(agents), FAILING, work
    )
    wait_for(lambda: len(fleet.query('up{job="hostward"} == 1')) == len(agents), 60, "every agent up")
    return fleet


_PROMQL_WORDS = frozenset(
    ("and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset")
)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, keywords, labels left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", text):
        word, call = match.group(1), match.group(2)
        if not call and word not in _PROMQL_WORDS and not re.fullmatch(r"\d+[smhdwy]", word):
            names.add(word)
    return names
