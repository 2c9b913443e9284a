"""The off-site copy over SSH (BAK-3): a real OpenSSH server on loopback holds the secondary.

Each fault happens during a real `hostward backup run` (in-process CLI): the server is killed
mid-upload, the link stops answering, the remote disk is full, the host key changes, the
identity is refused. In every case: the local primary gets its snapshot, the run exits 3
(partial), the gap is in the stored record and in the metric the coverage alert reads, the
next run after the fault is removed copies the missed run into the secondary, and
`restic check` passes on both repositories.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from backup_kit import Env, write_tree
from sftp_kit import Sshd, fingerprint_of, remote_repo, sshd  # noqa: F401
from testkit import ROOT, wait_for

from agent.cli import main
from agent.config import load_config
from agent.exporter.families_backup import backup_families
from agent.state import State
from backup.plan import build_plan
from backup.restic import Restic
from backup.verify import run_verify

RULES = ROOT / "playbooks/files/prometheus/hostward_rules.yml"


@dataclass
class Site:
    env: Env
    server: Sshd
    remote: Path
    state_dir: Path

    def write_config(self, limit_upload: int = 0, **ssh: object) -> Path:
        values = {**self.server.ssh().__dict__, **ssh}
        ssh_yaml = ", ".join(f"{k}: {json.dumps(v)}" for k, v in values.items())
        limit = f", limit_upload: {limit_upload}" if limit_upload else ""
        e = self.env
        text = f"""\
version: 1
state_dir: "{self.state_dir}"
exporter: {{enabled: false}}
backup:
  sources: ["{e.source}"]
  cache_dir: "{e.cache}"
  lock_wait: 5s
  schedule: {{at: "01:30", timeout: 90s}}
  repositories:
    primary: {{url: "{e.root / "primary"}", password_file: "{e.password_file}"}}
    secondary:
      {{url: "{self.server.url(self.remote)}", password_file: "{e.password_file}"{limit},
       ssh: {{{ssh_yaml}}}}}
"""
        path = e.root / "hostward.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    def run(self, capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        code = main(["backup", "run", "-c", str(config), "--json"])
        return code, json.loads(capsys.readouterr().out)

    def gap_metric(self) -> dict[str, float]:
        state = State.open(self.state_dir)
        try:
            families = {f.name: f for f in backup_families(state.snapshot())}
        finally:
            state.close()
        return {s.labels["repository"]: s.value for s in families["hostward_backup_coverage_gap"].samples}

    def runs_in(self, name: str) -> set[str]:
        if name == "primary":
            return {s.run_id for s in self.env.restic(name).snapshots()}
        repo = remote_repo(name, self.server.url(self.remote), self.env.password_file, self.server.ssh())
        return {s.run_id for s in Restic(repo, self.env.runner, cache_dir=str(self.env.cache)).snapshots()}


@pytest.fixture
def site(env: Env, sshd: Sshd, tmp_path: Path) -> Iterator[Site]:
    env.init_both()
    remote = tmp_path / "offsite" / "hostward"
    remote.parent.mkdir()
    (env.root / "secondary").rename(remote)  # an initialised repository, now at the far site
    write_tree(env.source, size=300_000)
    yield Site(env, sshd, remote, tmp_path / "state")
    sshd.start()  # the next test finds the server as the fixture made it


def _alert_fires_on_gap() -> None:
    """The shipped alert is `hostward_backup_coverage_gap > 0` (its promtool tests live beside it)."""
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    [rule] = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "HostwardBackupCoverageGap"]
    assert rule["expr"].strip() == "hostward_backup_coverage_gap > 0"


def _faulted(site: Site, code: int, out: dict[str, Any], kind: str | None = None) -> str:
    """The fault run: primary ok, secondary failed, exit 3, the gap stored and in the metric."""
    repos = out["repositories"]
    assert code == 3 and out["status"] == "partial", out
    assert repos["primary"]["status"] == "ok" and repos["primary"]["latest_snapshot"]
    assert repos["secondary"]["status"] == "failed", repos["secondary"]
    if kind is not None:
        assert repos["secondary"]["error_kind"] == kind, repos["secondary"]
    assert out["run_id"] in out["coverage"]["missing"]["secondary"]
    assert site.gap_metric()["secondary"] > 0  # HostwardBackupCoverageGap fires
    _alert_fires_on_gap()
    return str(out["run_id"])


def _caught_up(site: Site, capsys: pytest.CaptureFixture[str], missed: set[str]) -> None:
    """After the fault is gone: the next run copies the missed runs; both repositories check."""
    code, out = site.run(capsys, site.write_config())
    assert code == 0 and out["status"] == "ok", out
    assert set(out["repositories"]["secondary"]["caught_up"]) == missed
    assert out["coverage"]["gap"] == 0 and site.gap_metric() == {"primary": 0.0, "secondary": 0.0}
    assert missed | {out["run_id"]} <= site.runs_in("secondary")
    assert missed | {out["run_id"]} <= site.runs_in("primary")
    plan = build_plan(load_config(str(site.write_config())).config.backup, str(site.env.cache))
    checked = run_verify(plan, site.env.runner, parts=1, previous={}, timeout=120)
    assert [(c.repository, c.ok) for c in checked.checks] == [("primary", True), ("secondary", True)], (
        checked.checks
    )


def _during_upload(site: Site, capsys: pytest.CaptureFixture[str], fault: Callable[[], None]) -> tuple[int, Any]:
    """Run a backup with a slow secondary; `fault` strikes once its pack upload has begun."""
    config = site.write_config(limit_upload=100)
    box: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: box.update(r=main(["backup", "run", "-c", str(config), "--json"])))
    capsys.readouterr()
    worker.start()
    data = site.remote / "data"
    wait_for(lambda: any(p.is_file() for p in data.rglob("*")), 30, "the secondary's upload to start")
    fault()
    worker.join(60)
    assert not worker.is_alive(), "the run did not end after the fault"
    return box["r"], json.loads(capsys.readouterr().out)


def test_a_server_killed_mid_upload_costs_only_that_night_of_the_offsite_copy(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _during_upload(site, capsys, site.server.kill)
    missed = _faulted(site, code, out)
    assert out["repositories"]["secondary"]["error_kind"] in ("unreachable", "fatal")
    site.server.start()
    _caught_up(site, capsys, {missed})


def test_a_link_that_stops_answering_is_given_up_by_keepalive_and_caught_up(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _during_upload(site, capsys, site.server.freeze)
    missed = _faulted(site, code, out)
    assert "not responding" in out["repositories"]["secondary"]["error"] or out["repositories"]["secondary"][
        "error_kind"
    ] in ("unreachable", "fatal")
    site.server.thaw()
    _caught_up(site, capsys, {missed})


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_remote_disk_fails_the_secondary_only_and_is_caught_up_when_space_returns(
    site: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    disk = tmp_path / "small-disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)], check=True)
    try:
        subprocess.run(["cp", "-a", str(site.remote), str(disk / "hostward")], check=True)
        site.remote = disk / "hostward"
        code, out = site.run(capsys, site.write_config())
        missed = _faulted(site, code, out)
        subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True)
        _caught_up(site, capsys, {missed})
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_changed_host_key_and_a_refused_identity_fail_the_secondary_by_name(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    server = site.server
    server.start(server.base / "host_key_b")  # the far site now shows another key
    code, out = site.run(capsys, site.write_config())
    changed = _faulted(site, code, out, kind="host_key")
    error = out["repositories"]["secondary"]["error"]
    assert "CHANGED" in error and fingerprint_of(server.base / "host_key_b") in error, error
    assert str(server.known_hosts()) in error
    server.start()
    code, out = site.run(capsys, site.write_config(identity_file=str(server.base / "stranger_key")))
    refused = _faulted(site, code, out, kind="ssh_auth")
    assert "stranger_key" in out["repositories"]["secondary"]["error"]
    _caught_up(site, capsys, {changed, refused})
