"""Secret canaries: unique strings as the restic passwords, the SNMP community and v3 keys, the
SSH password and the basic-auth password, run through every path at debug level (a good and a
failing backup, devices that do not answer, good and bad logins, tracebacks, config reprs,
/metrics, the status page, reports, the journal, the state database, child argv and
environment) must appear nowhere."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt
import pytest
from reliability_b_kit import HOSTWARD, ROOT, Agent, agent_env, backup_yaml, free_port, init_repos, job_runs

from agent.config import load_config
from backup.config import RepositoryConfig
from collectors.devices.secrets import snmp_credentials

pytestmark = pytest.mark.skipif(shutil.which("restic") is None, reason="restic is not installed")

RESTIC_GOOD = "CANARY-restic-7f3a"
RESTIC_WRONG = "CANARY-restic-wrong-6b2e"  # the secondary is given a wrong password, by environment
RESTIC_ENV = "SECONDARY_RESTIC_PASSWORD"  # restic may get it as RESTIC_PASSWORD; no other child
COMMUNITY = "CANARY-snmpcomm-2b9c"
AUTH_KEY = "CANARY-snmpauth-4d1e"
PRIV_KEY = "CANARY-snmppriv-8a6f"
SSH_PASSWORD = "CANARY-sshpass-3c5d"
BASIC_GOOD = "CANARY-basicauth-9e2b"
BASIC_WRONG = "CANARY-basicwrong-1a2b"
CANARIES = (RESTIC_GOOD, RESTIC_WRONG, COMMUNITY, AUTH_KEY, PRIV_KEY, SSH_PASSWORD, BASIC_GOOD, BASIC_WRONG)
FINGERPRINT = "SHA256:" + "A" * 43


def secret(path: Path, value: str) -> Path:
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def write_config(tmp: Path, port: int, dead_udp: int, dead_tcp: int) -> Path:
    sec = tmp / "secrets"
    sec.mkdir()
    good = secret(sec / "restic-good", RESTIC_GOOD)
    repos = tmp / "repos"
    repos.mkdir()
    init_repos(repos, good)  # both made with the good password; the secondary is told the wrong one
    source = tmp / "data"
    source.mkdir()
    (source / "a.txt").write_text("data\n" * 1000)
    hashed = bcrypt.hashpw(BASIC_GOOD.encode(), bcrypt.gensalt(10)).decode()
    text = (
        f"version: 1\nstate_dir: {tmp / 'state'}\nlog: {{level: debug}}\n"
        f'exporter: {{listen: "127.0.0.1:{port}", basic_auth_users: {{prometheus: "{hashed}"}}}}\n'
        "collect: {schedule: {every: 2s, timeout: 10s}}\n"
        "audit: {schedule: {every: 1h}}\n"
        "devices_schedule: {poll: {every: 3s, timeout: 20s}, config_backup: {every: 3s, timeout: 20s}}\n"
        "devices:\n"
        f'  - {{name: sw-v2c, kind: switch, address: "127.0.0.1:{dead_udp}",'
        f' snmp: {{version: "2c", community_file: "{secret(sec / "community", COMMUNITY)}"}}}}\n'
        f'  - {{name: ups-v3, kind: ups, address: "127.0.0.1:{dead_udp}",'
        f' snmp: {{version: "3", user: monitor, auth_key_file: "{secret(sec / "auth", AUTH_KEY)}",'
        f' priv_key_file: "{secret(sec / "priv", PRIV_KEY)}"}}}}\n'
        f'  - {{name: core-ssh, kind: router, address: "127.0.0.1:{dead_tcp}",'
        f' ssh: {{platform: linux, username: admin, port: {dead_tcp},'
        f' password_file: "{secret(sec / "ssh", SSH_PASSWORD)}", host_key_fingerprint: "{FINGERPRINT}",'
        " timeout: 5s}}\n"
        + backup_yaml(
            source, repos / "primary", repos / "secondary", good, tmp / "cache", "{every: 4s, timeout: 1m}"
        )
    )
    text = text.replace(
        f'secondary: {{url: "{repos / "secondary"}", password_file: "{good}"}}',
        f'secondary: {{url: "{repos / "secondary"}", password_env: {RESTIC_ENV}}}',
    )
    path = tmp / "hostward.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class ChildWatch(threading.Thread):
    """Samples argv and environment of every descendant of `pid` until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.seen: dict[int, tuple[bytes, bytes]] = {}
        self.own_argv = b""  # the agent's argv, once its exec is done

    def run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(OSError):
                self.own_argv = Path(f"/proc/{self.pid}/cmdline").read_bytes() or self.own_argv
            for pid in descendants(self.pid):
                try:
                    argv = Path(f"/proc/{pid}/cmdline").read_bytes()
                    env = Path(f"/proc/{pid}/environ").read_bytes()
                except OSError:
                    continue
                if argv:
                    self.seen[pid] = (argv, env)
            time.sleep(0.01)


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = []
        for task in Path(f"/proc/{parent}/task").glob("*"):  # children hang off the forking thread
            try:
                kids += (task / "children").read_text().split()
            except OSError:
                continue
        out += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return out


def fetch(url: str, password: str | None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if password is not None:
        token = base64.b64encode(f"prometheus:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def leaks(name: str, data: bytes | str) -> list[str]:
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    return [f"{name}: {c}" for c in CANARIES if c.encode() in raw or c.encode("utf-16-le") in raw]


def test_no_secret_canary_appears_anywhere(tmp_path: Path) -> None:
    port = free_port()
    cfg = write_config(tmp_path, port, free_port(), free_port())
    state = tmp_path / "state"
    found: list[str] = []

    # In process: the config and the objects built from it, as repr and str.
    loaded = load_config(str(cfg))
    found += leaks("repr(config)", repr(loaded)) + leaks("str(config)", str(loaded.config))
    for device in loaded.config.devices:
        if device.snmp is not None:
            found += leaks("repr(credentials)", repr(snmp_credentials(device.snmp)))
    found += leaks("repr(repository)", repr(RepositoryConfig(url="/x", password_file=str(cfg))))

    agent = Agent(tmp_path, cfg, env=agent_env({RESTIC_ENV: RESTIC_WRONG}))
    watch = ChildWatch(agent.proc.pid)
    watch.start()
    try:
        url = agent.url()
        # Each backup: the primary succeeds, the secondary fails (wrong password): a failed run.
        agent.wait_for(lambda: job_runs(state, "backup"), timeout=60, what="a backup")
        agent.wait_for(lambda: job_runs(state, "devices") and job_runs(state, "device_configs"),
                       timeout=60, what="device polls and config backups")
        responses = {
            "metrics good": fetch(f"{url}/metrics", BASIC_GOOD),
            "metrics wrong": fetch(f"{url}/metrics", BASIC_WRONG),
            "metrics none": fetch(f"{url}/metrics", None),
            "status en": fetch(f"{url}/", BASIC_GOOD),
            "status zh": fetch(f"{url}/?lang=zh", BASIC_GOOD),
        }
    finally:
        watch.stop.set()
        watch.join(5)
        agent.stop()
    assert "wrong password" in job_runs(state, "backup")[0][2]
    assert responses["metrics good"][0] == 200 and responses["metrics wrong"][0] == 401
    assert "hostward_job_success" in responses["metrics good"][1]
    for name, (_, body) in responses.items():
        found += leaks(name, body)

    # Reports and commands that print, at debug level too.
    report = tmp_path / "audit.html"
    env = agent_env({RESTIC_ENV: RESTIC_WRONG})
    for args in (("audit", "--html", str(report)), ("backup", "snapshots", "--json"),
                 ("backup", "run"), ("journal", "verify")):
        done = subprocess.run((str(HOSTWARD), *args, "-c", str(cfg)), capture_output=True, timeout=120,
                              env=env, cwd=ROOT, check=False)
        found += leaks(f"hostward {' '.join(args)} stdout", done.stdout)
        found += leaks(f"hostward {' '.join(args)} stderr", done.stderr)
    assert report.exists()
    found += leaks("audit report", report.read_bytes())

    # The logs (debug, with the tracebacks of failed runs), every file of the state directory.
    assert "Traceback" in agent.stderr or "DEBUG" in agent.stderr
    found += leaks("agent log", agent.err_path.read_bytes())
    found += leaks("agent stdout", agent.out_path.read_bytes())
    for path in sorted(p for p in state.rglob("*") if p.is_file()):
        found += leaks(f"state file {path.name}", path.read_bytes())

    # Children: no secret in any argv, nor in any environment (restic gets the password file's path).
    restics = [argv for argv, _ in watch.seen.values() if b"restic" in argv.split(b"\0")[0]]
    assert restics, "no restic child was seen: the argv/environment check saw nothing"
    restic_envs = 0
    for pid, (argv, envb) in watch.seen.items():
        if argv == watch.own_argv:  # caught between fork and exec: still the agent itself
            continue
        found += leaks(f"child {pid} argv {argv[:60]!r}", argv)
        is_restic = Path(argv.split(b"\0")[0].decode()).name == "restic"
        if is_restic and f"RESTIC_PASSWORD={RESTIC_WRONG}".encode() in envb.split(b"\0"):
            restic_envs += 1
            envb = envb.replace(f"RESTIC_PASSWORD={RESTIC_WRONG}".encode(), b"")
        found += leaks(f"child {pid} environment {argv[:80]!r}", envb)
    assert restic_envs, "no restic child of the secondary was seen with its password in its environment"

    assert found == [], "\n".join(found)
    print(f"\nFIGURE {len(CANARIES)} canaries, {len(watch.seen)} child processes ({len(restics)} restic)"
          f" inspected, {sum(1 for p in state.rglob('*') if p.is_file())} state files: 0 occurrences")
    assert os.environ.get("RESTIC_PASSWORD") is None


def test_every_secret_the_config_names_is_masked_in_logs_and_stored_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret that slips into a message (an exception text from a library, a job's error,
    stored and then shown on /metrics) comes out as ***: the agent registers every secret the
    config names at start and on reload."""
    from agent.logs import MASK, redact
    from agent.secret_files import register_config_secrets

    cfg = write_config(tmp_path, free_port(), free_port(), free_port())
    env_password = "CANARY-restic-env-0c7d"
    monkeypatch.setenv(RESTIC_ENV, env_password)
    loaded = load_config(str(cfg))
    assert register_config_secrets(loaded.config) >= 6
    for value in (RESTIC_GOOD, COMMUNITY, AUTH_KEY, PRIV_KEY, SSH_PASSWORD, env_password):
        assert redact(f"error: {value} was rejected") == f"error: {MASK} was rejected"
    assert redact("nothing secret here") == "nothing secret here"
