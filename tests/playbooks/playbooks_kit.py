"""Running the playbooks for real, offline, against this machine (connection: local).

A deploy builds a wheelhouse on the controller and installs hostward on the host from it with
`pip --no-index`. The tests let the playbook do both, offline: hostward's wheel is built from a
copy of this checkout (`pip wheel --no-build-isolation`), and its dependencies come from wheels
repacked from the distributions installed in the test environment (their files and metadata,
as recorded in RECORD). Nothing but the local machine is contacted; everything is written under
temp directories.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
BIN = Path(sys.executable).parent
_RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
# What a deploy needs from the checkout (tests, .venv and .git are left behind).
_SOURCES = ("pyproject.toml", "README.md", "agent", "collectors", "common", "policies", "backup", "packaging")


@dataclass(frozen=True)
class Run:
    """One ansible-playbook run: exit code, output, and the recap per host."""

    rc: int
    output: str
    recap: dict[str, dict[str, int]]

    def changed(self, host: str) -> int:
        return self.recap[host]["changed"]


def ansible_env(tmp: Path) -> dict[str, str]:
    """Environment for ansible-playbook: the project's ansible.cfg, temp dirs under tmp."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(PLAYBOOKS / "ansible.cfg"),
        ANSIBLE_HOME=str(tmp / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-local"),
        ANSIBLE_REMOTE_TEMP=str(tmp / "ansible-remote"),
        ANSIBLE_NOCOLOR="1",
        # Results as JSON, not the operators' YAML (ansible.cfg): YAML folds long strings at 80
        # columns, so where a command line breaks would depend on the temp path's length.
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PIP_NO_INDEX="1",  # never the package index: every install is from a local wheelhouse
    )
    env.pop("PIP_FIND_LINKS", None)  # only the wheelhouses the playbooks name
    return env


def run_playbook(
    playbook: str,
    inventory: Path,
    tmp: Path,
    extra_vars: dict[str, object] | None = None,
    *args: str,
    timeout: float = 300,
) -> Run:
    """Run playbooks/PLAYBOOK with INVENTORY; extra vars are passed as a JSON file."""
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOKS / playbook), *args]
    if extra_vars:
        vars_file = tmp / f"extra-vars-{len(list(tmp.glob('extra-vars-*')))}.json"
        vars_file.write_text(json.dumps(extra_vars))
        argv += ["-e", f"@{vars_file}"]
    proc = subprocess.run(
        argv, env=ansible_env(tmp), capture_output=True, text=True, timeout=timeout, check=False
    )
    output = proc.stdout + proc.stderr
    recap = {
        m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)),
                     "unreachable": int(m.group(4)), "failed": int(m.group(5))}
        for m in _RECAP.finditer(proc.stdout)
    }  # fmt: skip
    return Run(proc.returncode, output, recap)


def local_inventory(path: Path, hosts: dict[str, dict[str, object]], group: str = "hostward_linux") -> Path:
    """An inventory of HOSTS (name: vars) in GROUP under hostward_agents, reached with connection: local."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    members = {group: {"hosts": {h: {**local, **v} for h, v in hosts.items()}}}
    inventory = {"all": {"children": {"hostward_agents": {"children": members}}}}
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def copy_sources(dest: Path) -> Path:
    """The parts of this checkout a deploy reads, copied (the build writes into its source tree)."""
    for name in _SOURCES:
        item = REPO / name
        if item.is_dir():
            shutil.copytree(item, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, dest / name)
    return dest


def runtime_dependencies(name: str) -> list[str]:
    """Distribution names NAME needs at run time (no extras), transitively."""
    seen: list[str] = []
    todo = [name]
    while todo:
        for spec in metadata.requires(todo.pop()) or []:
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            dist = metadata.distribution(req.name).metadata["Name"]
            if dist not in seen:
                seen.append(dist)
                todo.append(dist)
    return seen


def repack_installed(name: str, out: Path) -> Path:
    """A wheel of the installed distribution NAME, made from its files as listed in RECORD."""
    dist = metadata.distribution(name)
    wheel_meta = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel_meta.splitlines() if line.startswith("Tag:")]
    py, abi, plat = (".".join(sorted({t.split("-")[i] for t in tags})) for i in range(3))
    norm = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower()
    dist_info = f"{norm}-{dist.version}.dist-info"
    skip = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
    wheel = out / f"{norm}-{dist.version}-{py}-{abi}-{plat}.whl"
    record: list[str] = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in dist.files or []:
            parts = file.parts
            if parts[0] == ".." or "__pycache__" in parts or (len(parts) == 2 and parts[1] in skip):
                continue
            arcname = (
                "/".join((dist_info, *parts[1:])) if parts[0].endswith(".dist-info") else file.as_posix()
            )
            data = Path(str(file.locate())).read_bytes()
            zf.writestr(arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        zf.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return wheel


def dependency_wheels(out: Path) -> Path:
    """hostward's run-time dependencies as wheels, repacked from this environment (no index)."""
    out.mkdir(parents=True)
    for dep in runtime_dependencies("hostward"):
        repack_installed(dep, out)
    return out


@dataclass(frozen=True)
class Deployment:
    """hostward deployed by deploy-linux.yml under PREFIX on this machine."""

    work: Path
    prefix: Path
    inventory: Path
    first: Run

    @property
    def bin(self) -> Path:
        return self.prefix / "opt/hostward/bin/hostward"

    @property
    def config(self) -> Path:
        return self.prefix / "etc/hostward/hostward.yaml"


def deploy_vars(prefix: Path, build: Path) -> dict[str, object]:
    """Inventory variables of a test host: everything under PREFIX, no packages, no systemd.

    The controller builds the wheelhouse as in a real run, from a copy of the checkout, with
    the dependencies' wheels from BUILD/deps instead of the package index.
    """
    deps = build / "deps"
    return {
        "hostward_prefix": str(prefix),
        "hostward_source_dir": str(build / "src"),
        "hostward_wheelhouse_build_dir": str(build / "wheelhouse"),
        "hostward_controller_pip_args": ["--no-index", "--find-links", str(deps), "--no-build-isolation"],
        "hostward_python": getattr(sys, "_base_executable", sys.executable),
        "hostward_os_packages": [],
        "hostward_become": False,
        "hostward_owner": str(os.getuid()),
        "hostward_group": str(os.getgid()),
        "hostward_role": "server",
        "hostward_site": "lab-a",
        "hostward_exporter_listen": "127.0.0.1:19877",
        "hostward_secret_files": {"restic.pass": RESTIC_PASSWORD},
        "hostward_backup_sources": [str(prefix / "srv/data")],
        "hostward_backup_repositories": {
            "primary": {
                "url": str(prefix / "mnt/backup"),
                "password_file": "{{ hostward_config_dir }}/restic.pass",
            }
        },
    }


RESTIC_PASSWORD = "deploy-test-restic-pass"
DEPLOY_HOST = "agent-under-test"


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The first real run of deploy-linux.yml against this machine, into a temp prefix."""
    work = tmp_path_factory.mktemp("deploy")
    copy_sources(work / "build/src")
    dependency_wheels(work / "build/deps")
    prefix = work / "root"
    inventory = local_inventory(work / "inventory.yml", {DEPLOY_HOST: deploy_vars(prefix, work / "build")})
    first = run_playbook("deploy-linux.yml", inventory, work)
    return Deployment(work, prefix, inventory, first)


def results(run: Run) -> list[dict[str, Any]]:
    """Every task result printed as JSON (`ok: [host] => {...}`), in order, as parsed objects:
    nothing depends on how a line was wrapped."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for match in re.finditer(r" => \{", run.output):
        try:
            item, _ = decoder.raw_decode(run.output, match.end() - 1)
        except ValueError:
            continue
        if isinstance(item, dict):
            found.append(item)
    return found


def fleet_summary(run: Run) -> dict[str, list[str]]:
    """The hosts per outcome printed by tasks/fleet-summary.yml."""
    [summary] = [r["hostward_summary"] for r in results(run) if "hostward_summary" in r]
    assert isinstance(summary, dict), summary
    return summary
