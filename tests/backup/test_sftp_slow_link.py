"""The off-site copy over a slow link (issue 13, item 1): a real sshd in a network namespace
the test makes, its loopback shaped with `tc qdisc ... tbf` (netem is not built into this
kernel; a token bucket is what a thin uplink looks like to restic anyway) and given a wire's
MTU (tbf drops every packet larger than its bucket, and loopback's are 64 KiB: measured, a
64 KiB-MTU link at 4 mbit/s lost every sftp session within 25 s, "Broken pipe").

The first night the upload runs at 256 kbit/s and cannot finish within the job's timeout: the
run exits 3 at the timeout with the local primary complete, and the coverage gap is stored
and exported. The next night (the link still shaped, faster) catches the missed run up, and
`restic check` of both repositories (`hostward backup verify --full`) passes; a full restore
drill from the off-site copy then passes over the shaped link.

Every hostward command runs as a child in the namespace (`ip netns exec`): the namespace's
loopback is the only network touched. Serial (tests/conftest.py): the first night's outcome
rests on the upload being slower than the timeout, which a loaded machine must not blur.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from backup_kit import PASSWORD, Env, cli_argv
from sftp_kit import Sshd, new_server
from testkit import ROOT, SSHD

from agent.drill_full_record import full_drills
from agent.exporter.families_backup import backup_families
from agent.state import State
from collectors.system.runner import SubprocessRunner

SOURCE_BYTES = 600_000  # random, so nothing compresses: ~19 s of upload at 256 kbit/s
NIGHT_TIMEOUT = 8  # seconds: the local primary needs well under 1


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _shape(ns: str, rate: str) -> None:
    _ip("netns", "exec", ns, "tc", "qdisc", "replace", "dev", "lo", "root", "tbf",
        "rate", rate, "burst", "16kb", "latency", "400ms")  # fmt: skip


@dataclass
class SlowSite:
    env: Env
    server: Sshd
    ns: str
    remote: Path
    state_dir: Path
    sshd: subprocess.Popen[bytes] | None = None

    def start_sshd(self) -> None:
        """sshd inside the namespace, on its loopback; ready once its log says it listens."""
        log = self.server.log
        log.write_text("")
        self.sshd = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, SSHD, "-D", "-f", str(self.server.base / "sshd_config"),
             "-E", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while "Server listening on 127.0.0.1" not in log.read_text():
            assert self.sshd.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.05)

    def config(self, timeout: int) -> Path:
        ssh = {**self.server.ssh().__dict__}
        ssh_yaml = ", ".join(f"{k}: {json.dumps(v)}" for k, v in ssh.items())
        e = self.env
        path = e.root / "hostward.yaml"
        path.write_text(
            f"""\
version: 1
state_dir: "{self.state_dir}"
exporter: {{enabled: false}}
backup:
  sources: ["{e.source}"]
  cache_dir: "{e.cache}"
  lock_wait: 5s
  schedule: {{at: "01:30", timeout: {timeout}s}}
  repositories:
    primary: {{url: "{e.root / "primary"}", password_file: "{e.password_file}"}}
    secondary:
      {{url: "{self.server.url(self.remote)}", password_file: "{e.password_file}", ssh: {{{ssh_yaml}}}}}
""",
            encoding="utf-8",
        )
        return path

    def hostward(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.ns, *cli_argv(*args)],
            capture_output=True, text=True, timeout=timeout, check=False, cwd=str(ROOT),
        )  # fmt: skip

    def night(self, timeout: int) -> tuple[int, dict[str, Any]]:
        done = self.hostward("backup", "run", "-c", str(self.config(timeout)), "--json")
        return done.returncode, json.loads(done.stdout)

    def gap_metric(self) -> dict[str, float]:
        state = State.open(self.state_dir)
        try:
            families = {f.name: f for f in backup_families(state.snapshot())}
        finally:
            state.close()
        return {s.labels["repository"]: s.value for s in families["hostward_backup_coverage_gap"].samples}


@pytest.fixture
def slow_site(template: Path, tmp_path: Path) -> Iterator[SlowSite]:
    if os.geteuid() != 0 or shutil.which("tc") is None:
        pytest.skip("a network namespace and tc need root and iproute2")
    env = Env(tmp_path, tmp_path / "源数据", tmp_path / "restic.pass", tmp_path / "cache", SubprocessRunner())
    env.template = template
    env.source.mkdir()
    env.password_file.write_text(PASSWORD)
    env.password_file.chmod(0o600)
    env.init_both()
    (env.source / "影像.bin").write_bytes(os.urandom(SOURCE_BYTES))
    (env.source / "说明.txt").write_text("slow link night\n", encoding="utf-8")
    remote = tmp_path / "offsite" / "hostward"
    remote.parent.mkdir()
    (env.root / "secondary").rename(remote)
    (tmp_path / "sshd").mkdir()
    server = new_server(tmp_path / "sshd")
    server.stop()  # started on the host's loopback by the kit; it runs in the namespace instead
    ns = f"hw-slow-{os.getpid()}"
    _ip("netns", "add", ns)
    site = SlowSite(env, server, ns, remote, tmp_path / "state")
    try:
        # a wire's MTU: tbf drops every packet larger than its bucket, and loopback's are 64 KiB
        _ip("netns", "exec", ns, "ip", "link", "set", "lo", "mtu", "1500", "up")
        site.start_sshd()
        yield site
    finally:
        if site.sshd is not None:
            site.sshd.terminate()
            site.sshd.wait(10)
        subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True, timeout=10)


def test_a_slow_link_costs_the_off_site_copy_one_night_at_the_timeout_and_the_next_night_catches_up(
    slow_site: SlowSite,
) -> None:
    site = slow_site
    _shape(site.ns, "256kbit")
    code, out = site.night(NIGHT_TIMEOUT)
    primary, secondary = out["repositories"]["primary"], out["repositories"]["secondary"]
    assert code == 3 and out["status"] == "partial", out
    assert primary["status"] == "ok" and primary["latest_snapshot"], primary  # the local copy is whole
    assert (secondary["status"], secondary["error_kind"]) == ("failed", "timeout"), secondary
    missed = out["run_id"]
    assert missed in out["coverage"]["missing"]["secondary"]
    assert site.gap_metric()["secondary"] > 0  # HostwardBackupCoverageGap fires (test_sftp_offsite)

    _shape(site.ns, "4mbit")  # the next night the link is still shaped, but faster
    code, out = site.night(120)
    primary, secondary = out["repositories"]["primary"], out["repositories"]["secondary"]
    assert code == 0 and out["status"] == "ok", out
    assert secondary["caught_up"] == [missed] and primary["caught_up"] == []
    assert out["coverage"]["gap"] == 0 and secondary["snapshot_count"] == primary["snapshot_count"] == 2
    assert site.gap_metric() == {"primary": 0.0, "secondary": 0.0}
    # restic check of both, all data read (stale locks of the killed upload cleared first)
    done = site.hostward("backup", "verify", "--full", "-c", str(site.config(120)))
    assert done.returncode == 0, done.stdout + done.stderr
    # and the whole snapshot comes back over the shaped link (the full drill, issue 13 item 3)
    done = site.hostward("backup", "drill", "--full", "--repo", "secondary", "-c", str(site.config(120)))
    assert done.returncode == 0 and "通过 ok" in done.stdout, done.stdout + done.stderr
    state = State.open(site.state_dir)
    try:
        [view] = full_drills(state.snapshot()).values()
    finally:
        state.close()
    assert view.last.ok and view.last.bytes > SOURCE_BYTES and view.projected_seconds is not None
