"""backup-now.yml and fleet-enforce.yml, run for real against this machine with the deployed agent.

Three local "hosts" share the deployed virtual environment, each with its own config: one whose
two restic repositories exist (exit 0), one whose secondary is missing (exit 3, partial), one
with neither (exit 1). The playbook must report each outcome distinctly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from playbooks_kit import Deployment, Run, fleet_summary, local_inventory, results, run_playbook

BACKUP_HOSTS = ("pc-ok", "pc-partial", "pc-failed")


def agent_config(work: Path, name: str, role: str = "server", enforce: tuple[str, ...] = ()) -> Path:
    password = work / "restic.pass"
    password.write_text("fleet-test-pass")
    password.chmod(0o600)
    config = {
        "version": 1,
        "state_dir": str(work / f"state-{name}"),
        "host": {"role": role, "site": "lab-a", "name": name},
        "exporter": {"enabled": False},
        "audit": {"enforce": list(enforce)},
        "backup": {
            "sources": [str(work / "data")],
            "repositories": {
                "primary": {"url": str(work / f"{name}-primary"), "password_file": str(password)},
                "secondary": {"url": str(work / f"{name}-secondary"), "password_file": str(password)},
            },
        },
    }
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def fleet_inventory(work: Path, deployment: Deployment, configs: dict[str, Path]) -> Path:
    common = {"hostward_prefix": str(deployment.prefix), "hostward_become": False}
    hosts = {h: {**common, "hostward_config_path": str(c)} for h, c in configs.items()}
    return local_inventory(work / "fleet.yml", hosts)


@pytest.fixture(scope="module")
def backup_now(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Run:
    assert deployment.first.rc == 0, deployment.first.output[-4000:]
    work = tmp_path_factory.mktemp("fleet-backup")
    (work / "data").mkdir()
    (work / "data" / "record.txt").write_text("patient register, ward 3\n")
    configs = {h: agent_config(work, h) for h in BACKUP_HOSTS}
    init = {"pc-ok": [], "pc-partial": ["--only", "primary"]}
    for host, only in init.items():
        subprocess.run([str(deployment.bin), "backup", "init", *only, "-c", str(configs[host])],
                       check=True, capture_output=True, timeout=120)  # fmt: skip
    inventory = fleet_inventory(work, deployment, configs)
    return run_playbook("backup-now.yml", inventory, work, {"hostward_backup_poll": 1})


def test_backup_now_reports_ok_partial_and_failed_hosts_distinctly(backup_now: Run) -> None:
    assert fleet_summary(backup_now) == {"ok": ["pc-ok"], "partial": ["pc-partial"], "failed": ["pc-failed"]}
    assert backup_now.rc != 0  # not every host is safe: the run says so
    assert backup_now.recap["localhost"]["failed"] == 1


def test_backup_now_marks_only_the_failed_host_failed(backup_now: Run) -> None:
    assert backup_now.recap["pc-ok"]["failed"] == 0
    assert backup_now.recap["pc-partial"]["failed"] == 0
    assert backup_now.recap["pc-failed"]["failed"] == 1
    assert backup_now.recap["pc-ok"]["changed"] == 1


def test_fleet_enforce_dry_run_reports_ok_and_failed_hosts(deployment: Deployment, tmp_path: Path) -> None:
    # Safe on this machine even if applied: usb.storage_blocked exempts manager_pc, so nothing
    # can change; the server has not opted in, which `hostward enforce` reports as exit 1.
    configs = {
        "pc-manager": agent_config(tmp_path, "pc-manager", "manager_pc", ("usb.storage_blocked",)),
        "pc-not-opted-in": agent_config(tmp_path, "pc-not-opted-in", "server"),
    }
    inventory = fleet_inventory(tmp_path, deployment, configs)
    run = run_playbook(
        "fleet-enforce.yml", inventory, tmp_path, {"hostward_enforce_checks": "usb.storage_blocked"}
    )
    assert fleet_summary(run) == {"ok": ["pc-manager"], "failed": ["pc-not-opted-in"]}
    found = results(run)
    commands = [r["msg"]["command"] for r in found if "command" in (r.get("msg") or ())]
    assert sorted(c.split(" -c ")[1] for c in commands) == sorted(str(c) for c in configs.values())
    assert all(" enforce --json --check=usb.storage_blocked --dry-run -c " in c for c in commands), commands
    shown = [line for r in found for line in r.get("hostward_output", ())]
    assert any("not opted in: add it to audit.enforce" in line for line in shown), shown
    assert run.rc != 0


def test_fleet_enforce_refuses_a_check_id_that_is_not_an_id(deployment: Deployment, tmp_path: Path) -> None:
    inventory = fleet_inventory(tmp_path, deployment, {"pc-ok": agent_config(tmp_path, "pc-ok")})
    run = run_playbook(
        "fleet-enforce.yml", inventory, tmp_path, {"hostward_enforce_checks": "usb.x --root=/tmp"}
    )
    assert run.rc != 0
    assert [r["msg"] for r in results(run) if "set hostward_enforce_checks" in str(r.get("msg"))], run.output
    assert "hostward enforce (Linux)" not in run.output
