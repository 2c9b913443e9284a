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
