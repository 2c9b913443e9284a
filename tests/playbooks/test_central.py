"""central.yml rendered for real on this machine (files only, no services) from the example inventory."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from playbooks_kit import PLAYBOOKS, Run, run_playbook

from agent.report import fleet_rules

SCRAPE_PASSWORD = "central-test-scrape-pass"
# The agents of playbooks/inventory.example.yml, as the targets file must list them.
EXPECTED_TARGETS = {
    "10.20.2.11:9877": ("clinic-pc01", "clinical_terminal", "east-clinic", "windows"),
    "10.10.2.21:9877": ("finance-pc01", "office_pc", "main-building", "linux"),
    "10.10.1.10:9877": ("his-db01", "server", "main-building", "linux"),
    "10.10.3.31:9877": ("insurance-pc01", "insurance_terminal", "main-building", "windows"),
    "10.10.1.5:9877": ("monitor01", "server", "main-building", "linux"),
    "10.10.1.11:9877": ("pacs01", "server", "main-building", "linux"),
    "10.10.2.22:9877": ("reception-pc01", "office_pc", "main-building", "linux"),
}


@dataclass(frozen=True)
class Central:
    """central.yml rendered into WORK/root (files only); run is the first run."""

    run: Run
    work: Path
    extra_vars: dict[str, object]

    @property
    def etc(self) -> Path:
        return self.work / "root/etc/prometheus"

    @property
    def ca(self) -> Path:
        return self.work / "ca.pem"


def render_central(work: Path, extra_vars: dict[str, object]) -> Run:
    inventory = PLAYBOOKS / "inventory.example.yml"
    return run_playbook("central.yml", inventory, work, extra_vars, "--limit", "monitor01")


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Central:
    work = tmp_path_factory.mktemp("central")
    prefix = work / "root"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(work / "ca.key"), "-out", str(work / "ca.pem"), "-days", "2",
         "-subj", "/CN=hostward test CA"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    extra = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "hostward_prefix": str(prefix),
        "hostward_central_render_only": True,
        "hostward_become": False,
        "hostward_group": str(os.getgid()),
        "vault_scrape_password": SCRAPE_PASSWORD,
        "hostward_scrape_scheme": "https",
        "hostward_scrape_ca_cert": (work / "ca.pem").read_text(),
    }
    return Central(render_central(work, extra), work, extra)


def test_central_renders_without_installing_anything(central: Central) -> None:
    run = central.run
    assert run.rc == 0, run.output[-4000:]
    assert run.recap["monitor01"]["failed"] == 0
    for task in ("Install Prometheus and Alertmanager (Debian packages)", "Enable and start the services"):
        assert re.search(rf"TASK \[{re.escape(task)}\] \**\nskipping: \[monitor01\]", run.output), task


def test_second_central_run_changes_nothing(central: Central) -> None:
    again = render_central(central.work, central.extra_vars)
    assert again.rc == 0, again.output[-4000:]
    assert central.run.changed("monitor01") > 0
    assert again.changed("monitor01") == 0, again.output[-4000:]


def test_targets_file_lists_every_agent_of_the_inventory_with_its_labels(
    central: Central,
) -> None:
    etc = central.etc
    entries = json.loads((etc / "file_sd/hostward.json").read_text())
    found = {target: entry["labels"] for entry in entries for target in entry["targets"]}
    expected = {
        t: dict(zip(("host", "role", "site", "os"), labels, strict=True))
        for t, labels in EXPECTED_TARGETS.items()
    }
    assert found == expected


def test_prometheus_config_passes_promtool_and_scrapes_the_agents(central: Central) -> None:
    etc, ca = central.etc, central.ca
    done = subprocess.run(["promtool", "check", "config", str(etc / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load((etc / "prometheus.yml").read_text())
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "hostward"]
    assert job["file_sd_configs"] == [
        {"files": [str(etc / "file_sd/hostward.json")], "refresh_interval": "5m"}
    ]
    assert job["scheme"] == "https"
    assert job["tls_config"] == {"ca_file": str(etc / "hostward-ca.pem")}
    assert (etc / "hostward-ca.pem").read_text() == ca.read_text()
    assert job["basic_auth"] == {"username": "prometheus", "password_file": str(etc / "hostward-scrape.pass")}
    assert config["rule_files"] == [str(etc / "rules/hostward_rules.yml")]
    assert (etc / "rules/hostward_rules.yml").read_bytes() == (
        PLAYBOOKS / "files/prometheus/hostward_rules.yml"
    ).read_bytes()


def test_scrape_password_is_in_a_private_file_only(central: Central) -> None:
    etc = central.etc
    secret = etc / "hostward-scrape.pass"
    assert secret.read_text() == SCRAPE_PASSWORD
    assert stat.S_IMODE(secret.stat().st_mode) == 0o640
    assert SCRAPE_PASSWORD not in (etc / "prometheus.yml").read_text()


def test_alertmanager_config_passes_amtool(central: Central) -> None:
    etc = central.etc
    done = subprocess.run(["amtool", "check-config", str(etc / "alertmanager.yml")],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _sites_inventory(work: Path, change: dict[str, object] | None = None) -> Path:
    """inventory.sites.example.yml, every host local with a prefix of its own (CHANGE: agent -> vars)."""
    inventory = yaml.safe_load((PLAYBOOKS / "inventory.sites.example.yml").read_text(encoding="utf-8"))
    groups = inventory["all"]["children"]
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    for group in ("hostward_site_prometheus", "hostward_central"):
        for name, hostvars in groups[group]["hosts"].items():
            hostvars.update(local, hostward_prefix=str(work / name))
    agents = groups["hostward_agents"]["children"]["hostward_linux"]["hosts"]
    for name, hostvars in (change or {}).items():
        agents[name] = hostvars
    path = work / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    return path


SITES_VARS = {
    "hostward_central_render_only": True,
    "hostward_become": False,
    "hostward_group": str(os.getgid()),
}


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("sites")
    run = run_playbook("central.yml", _sites_inventory(work), work, SITES_VARS)
    assert run.rc == 0, run.output[-4000:]
    return work


def _promtool_config(path: Path) -> dict[str, object]:
    done = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    loaded: dict[str, object] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def test_each_site_prometheus_scrapes_its_own_agents_with_the_shipped_rules(sites: Path) -> None:
    for host, site, agents in (("monitor01", "main-building", {"his-db01", "finance-pc01"}),
                               ("clinic-mon01", "east-clinic", {"clinic-srv01", "clinic-pc01"})):  # fmt: skip
        etc = sites / host / "etc/prometheus"
        config = _promtool_config(etc / "prometheus.yml")
        assert config["global"]["external_labels"] == {"site": site}  # type: ignore[index]
        assert config["rule_files"] == [str(etc / "rules/hostward_rules.yml")]
        targets = json.loads((etc / "file_sd/hostward.json").read_text())
        assert {e["labels"]["host"] for e in targets} == agents
        assert {e["labels"]["site"] for e in targets} == {site}
        managers = config["alerting"]["alertmanagers"]  # type: ignore[index]
        sent_to = [m["static_configs"][0]["targets"] for m in managers]
        assert sent_to == [["localhost:9093"], ["10.10.0.5:9093"]]  # its own, then headquarters'


def test_the_central_prometheus_federates_the_sites_and_scrapes_no_agent(sites: Path) -> None:
    etc = sites / "central01/etc/prometheus"
    config = _promtool_config(etc / "prometheus.yml")
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}  # type: ignore[attr-defined]
    assert set(jobs) == {"prometheus", "hostward-federate"}
    federate = jobs["hostward-federate"]
    assert (federate["metrics_path"], federate["honor_labels"]) == ("/federate", True)
    assert [(c["targets"], c["labels"]) for c in federate["static_configs"]] == [
        (["10.20.1.5:9090"], {"site": "east-clinic"}),
        (["10.10.1.5:9090"], {"site": "main-building"}),
    ]
    assert config["rule_files"] == [str(etc / "rules/hostward_central_rules.yml")]
    assert not (etc / "file_sd/hostward.json").exists() and not (etc / "rules/hostward_rules.yml").exists()
    # Everything `hostward report fleet` reads is federated: the report works against the central one.
    source = (PLAYBOOKS.parent / "agent/report/fleet.py").read_text(encoding="utf-8")
    read = set(re.findall(r'client\.query\(f?"(?:max_over_time\()?([a-z_:]+)\{', source)) - {"up"}
    assert read, "the report's queries were not found: the check would pass on nothing"
    selectors = federate["params"]["match[]"]
    for name in sorted(read | set(fleet_rules.METRICS)):
        assert any(_selects(selector, name) for selector in selectors), name


def _selects(selector: str, name: str) -> bool:
    """Does a federation selector (`name{...}` or `{__name__=~"re",...}`) take metric `name`?"""
    exact = re.match(r'^([a-zA-Z_:][\w:]*)\{', selector) or re.search(r'__name__="([^"]+)"', selector)
    if exact:
        return exact.group(1) == name
    pattern = re.search(r'__name__=~"([^"]+)"', selector)
    return bool(pattern and re.fullmatch(pattern.group(1), name))


def test_an_agent_whose_site_has_no_prometheus_is_refused_by_name(tmp_path: Path) -> None:
    orphan = {"west-pc01": {"ansible_host": "10.30.2.1", "hostward_site": "west-clinic"}}
    run = run_playbook("central.yml", _sites_inventory(tmp_path, orphan), tmp_path, SITES_VARS)
    assert run.rc != 0
    assert "no site Prometheus watches west-pc01" in run.output
    assert not (tmp_path / "central01/etc/prometheus/prometheus.yml").exists()
