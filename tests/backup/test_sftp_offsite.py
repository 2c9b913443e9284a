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
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from backup_kit import PASSWORD, Env, write_tree
from sftp_kit import Sshd, fingerprint_of, new_server
from sftp_kit import sshd as sshd  # the fixture
from testkit import ROOT, wait_for

from agent.actions.backup import do_backup
from agent.cli import main
from agent.config import load_config
from agent.exporter.families_backup import backup_families
from agent.state import State
from backup.locks import settle_locks
from backup.model import CheckResult
from backup.plan import build_plan
from backup.restic import Repository
from collectors.system.runner import SubprocessRunner

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


def _caught_up(
    site: Site,
    capsys: pytest.CaptureFixture[str],
    missed: set[str],
    primary_missed: frozenset[str] = frozenset(),
) -> None:
    """After the fault is gone: the next run copies the missed runs (into the secondary, and into
    the primary the runs it missed); both repositories hold every run and check clean."""
    code, out = site.run(capsys, site.write_config())
    primary, secondary = out["repositories"]["primary"], out["repositories"]["secondary"]
    assert code == 0 and out["status"] == "ok", out
    assert set(secondary["caught_up"]) == missed and set(primary["caught_up"]) == primary_missed
    # both listed after the copy: every run of the window is in both repositories
    every = len(missed) + len(primary_missed) + 1
    assert out["coverage"]["gap"] == 0 and secondary["snapshot_count"] == primary["snapshot_count"] == every
    assert site.gap_metric() == {"primary": 0.0, "secondary": 0.0}
    both_checked(site)


def both_checked(site: Site) -> None:
    """`restic check` of both repositories, as the verify job runs it: stale locks (a restic that
    lost its link could not remove its lock; its process is dead) are cleared first."""
    plan = build_plan(load_config(str(site.write_config())).config.backup, str(site.env.cache))

    def check(repo: Repository) -> CheckResult:
        restic = plan.restic(repo, site.env.runner)
        settle_locks(restic, wait=5, exclusive=True)
        return restic.check()

    with ThreadPoolExecutor(2) as pool:
        checks = list(pool.map(check, plan.repositories))
    assert [(c.repository, c.ok) for c in checks] == [("primary", True), ("secondary", True)], checks


def _during_upload(
    site: Site, capsys: pytest.CaptureFixture[str], fault: Callable[[], None]
) -> tuple[int, Any]:
    """Run a backup with a slow secondary; `fault` strikes once its pack upload has begun."""
    config = site.write_config(limit_upload=100)
    box: dict[str, Any] = {}
    argv = ["backup", "run", "-c", str(config), "--json"]
    worker = threading.Thread(target=lambda: box.update(r=main(argv)))
    capsys.readouterr()
    data = site.remote / "data"
    before = set(data.rglob("*"))
    worker.start()
    wait_for(lambda: any(p.is_file() for p in set(data.rglob("*")) - before), 30, "the secondary's upload")
    fault()
    worker.join(60)
    assert not worker.is_alive(), "the run did not end after the fault"
    return box["r"], json.loads(capsys.readouterr().out)


def test_a_server_killed_mid_upload_and_a_link_that_stops_answering_cost_only_those_nights(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _during_upload(site, capsys, site.server.kill)
    killed = _faulted(site, code, out, kind="unreachable")
    site.server.start()
    code, out = _during_upload(site, capsys, site.server.freeze)  # keepalives go unanswered
    frozen = _faulted(site, code, out, kind="unreachable")
    # ssh's keepalive gives up ("server not responding"); restic may report that, or first the
    # write it lost on the dead channel: either way the same `unreachable` kind, checked above.
    error = out["repositories"]["secondary"]["error"]
    assert "not responding" in error or "connection lost" in error, error
    site.server.thaw()
    _caught_up(site, capsys, {killed, frozen})


def test_a_changed_host_key_a_refused_identity_and_a_missing_local_disk_are_named_and_caught_up(
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
    # a night without the local disk: only the off-site copy gets that run
    disk = site.env.root / "primary"
    disk.rename(site.env.root / "unplugged")
    code, out = site.run(capsys, site.write_config())
    assert (code, out["repositories"]["primary"]["error_kind"]) == (3, "repository_missing"), out
    assert out["repositories"]["secondary"]["status"] == "ok"
    (site.env.root / "unplugged").rename(disk)
    _caught_up(site, capsys, {changed, refused}, frozenset({out["run_id"]}))


@dataclass
class FullDiskNight:
    site: Site
    disk: Path
    worker: threading.Thread
    box: dict[str, Any]


@pytest.fixture(scope="module", autouse=True)
def full_disk_night(
    template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FullDiskNight | None]:
    """A night whose remote repository sits on a full disk (a 200 kB tmpfs), started before the
    other tests of this module: restic retries a failed upload ten times with backoff (about
    40 s), idle time the other tests use. Its own sshd, so their faults do not touch it."""
    if os.geteuid() != 0:  # mounting a tmpfs needs root
        yield None
        return
    root = tmp_path_factory.mktemp("fulldisk")
    env = Env(root, root / "源数据", root / "restic.pass", root / "cache", SubprocessRunner())
    env.template = template
    env.source.mkdir()
    env.password_file.write_text(PASSWORD)
    env.password_file.chmod(0o600)
    env.init_both()
    write_tree(env.source, size=300_000)
    disk = root / "small-disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)], check=True)
    (root / "sshd").mkdir()
    server = new_server(root / "sshd")
    try:
        shutil.move(env.root / "secondary", disk / "hostward")
        site = Site(env, server, disk / "hostward", root / "state")
        config = load_config(str(site.write_config())).config
        box: dict[str, Any] = {}

        def night() -> None:
            state = State.open(site.state_dir)
            try:
                box["result"] = do_backup(config, state, site.state_dir, timeout=120)
            finally:
                state.close()

        worker = threading.Thread(target=night, daemon=True)
        worker.start()
        yield FullDiskNight(site, disk, worker, box)
        worker.join(120)
    finally:
        server.stop()
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_remote_disk_fails_the_secondary_only_and_is_caught_up_when_space_returns(
    full_disk_night: FullDiskNight | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if full_disk_night is None:
        pytest.skip("mounting a small tmpfs needs root")
    full_disk_night.worker.join(120)
    result = full_disk_night.box["result"]
    site = full_disk_night.site
    out = result.as_dict()
    code = {"ok": 0, "partial": 3}.get(result.status, 1)  # as `hostward backup run` exits
    missed = _faulted(site, code, out)
    assert shutil.disk_usage(full_disk_night.disk).free < 300_000  # the upload did not fit
    subprocess.run(["mount", "-o", "remount,size=16m", str(full_disk_night.disk)], check=True)
    _caught_up(site, capsys, {missed})
