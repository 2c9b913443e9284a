"""deploy-linux.yml, run for real against this machine (connection: local) into a temp prefix."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import yaml
from playbooks_kit import DEPLOY_HOST, RESTIC_PASSWORD, Deployment, run_playbook

import agent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_deploy_succeeds_and_changes_the_host(deployment: Deployment) -> None:
    assert deployment.first.rc == 0, deployment.first.output[-4000:]
    assert deployment.first.recap[DEPLOY_HOST]["failed"] == 0
    assert deployment.first.changed(DEPLOY_HOST) > 0


def test_the_virtual_environment_runs_the_deployed_version(deployment: Deployment) -> None:
    out = subprocess.run(
        [str(deployment.bin), "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == f"hostward {agent.__version__}"
    assert (deployment.prefix / "opt/hostward/pyvenv.cfg").is_file()


def test_config_comes_from_the_inventory_and_validates(deployment: Deployment) -> None:
    done = subprocess.run(
        [str(deployment.bin), "config", "validate", "-c", str(deployment.config)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load(deployment.config.read_text())
    assert config["host"] == {"role": "server", "site": "lab-a", "name": DEPLOY_HOST, "labels": {}}
    assert config["exporter"] == {"listen": "127.0.0.1:19877"}
    assert config["state_dir"] == str(deployment.prefix / "var/lib/hostward")
    primary = config["backup"]["repositories"]["primary"]
    assert primary["password_file"] == str(deployment.prefix / "etc/hostward/restic.pass")
    assert RESTIC_PASSWORD not in deployment.config.read_text()


def test_config_state_and_secrets_are_private(deployment: Deployment) -> None:
    etc = deployment.prefix / "etc/hostward"
    assert mode(etc) == 0o700
    assert mode(deployment.prefix / "var/lib/hostward") == 0o700
    assert mode(deployment.config) == 0o600
    secret = etc / "restic.pass"
    assert mode(secret) == 0o600
    assert secret.read_text() == RESTIC_PASSWORD


def test_systemd_unit_runs_the_deployed_agent_with_its_config(deployment: Deployment) -> None:
    unit = (deployment.prefix / "etc/systemd/system/hostward.service").read_text()
    assert f"ExecStart={deployment.bin} run\n" in unit
    assert f"ExecStartPre={deployment.bin} config validate\n" in unit
    assert f"Environment=HOSTWARD_CONFIG={deployment.config}\n" in unit
    assert all(str(deployment.prefix) in line for line in unit.splitlines() if "/opt/hostward" in line)
    assert "StateDirectoryMode=0700" in unit


def test_second_deploy_changes_nothing(deployment: Deployment) -> None:
    again = run_playbook("deploy-linux.yml", deployment.inventory, deployment.work)
    assert again.rc == 0, again.output[-4000:]
    assert again.changed(DEPLOY_HOST) == 0, again.output[-4000:]


def test_invalid_config_value_fails_the_deploy_and_keeps_the_good_config(deployment: Deployment) -> None:
    good = deployment.config.read_bytes()
    bad = run_playbook(
        "deploy-linux.yml", deployment.inventory, deployment.work, {"hostward_role": "toaster"}
    )
    assert bad.rc != 0
    assert bad.recap[DEPLOY_HOST]["failed"] == 1
    assert "host.role" in bad.output
    assert deployment.config.read_bytes() == good
