"""Config backup over SSH against a real OpenSSH server on loopback (netmiko `linux`).

sshd runs with a private sshd_config on a free 127.0.0.1 port, key authentication for root
only from 127.0.0.1, no PAM; the system's sshd config is neither read nor changed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from devices_kit import free_tcp_port
from testkit import SSHD, start_sshd

from agent.actions.device_configs import STORE_DIR, backup_configs
from agent.config.schema import Config
from agent.state import State
from collectors.devices import config_store
from collectors.devices.config import DeviceConfig, SshConfig


@dataclass
class Sshd:
    port: int
    base: Path
    client_key: Path
    host_key: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, host_key: Path) -> None:
        self.stop()
        conf = self.base / "sshd_config"
        conf.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
            f"PidFile {self.base / 'sshd.pid'}\nUsePAM no\nPermitRootLogin prohibit-password\n"
            f"AuthorizedKeysFile {self.base / 'authorized_keys'}\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nStrictModes no\nAllowUsers root@127.0.0.1\n"
            "LogLevel DEBUG1\n"
        )
        self.host_key = host_key
        self.proc = start_sshd(conf, self.log)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None


def keygen(path: Path, kind: str = "ed25519") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not Path(SSHD).exists():
        pytest.skip("Debian openssh-server is not installed (scripts/debian-deps.sh test)")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
    base = tmp_path_factory.mktemp("sshd")
    client = keygen(base / "client_key")
    (base / "authorized_keys").write_text('from="127.0.0.1" ' + (base / "client_key.pub").read_text())
    server = Sshd(free_tcp_port(), base, client, keygen(base / "host_key_a"), base / "sshd.log")
    keygen(base / "host_key_b")
    server.start(base / "host_key_a")
    try:
        yield server
    finally:
        server.stop()


def pin(server: Sshd, host_key: Path) -> str:
    """A known_hosts file pinning `host_key` for [127.0.0.1]:port."""
    kind, b64 = host_key.with_suffix(".pub").read_text().split()[:2]
    path = server.base / f"known_hosts-{host_key.name}"
    path.write_text(f"[127.0.0.1]:{server.port} {kind} {b64}\n")
    return str(path)


def fingerprint_of(host_key: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-lf", str(host_key.with_suffix(".pub"))], capture_output=True, text=True, check=True
    ).stdout
    return out.split()[1]


def config_for(server: Sshd, config_file: Path, **pinning: str) -> Config:
    ssh = SshConfig(
        platform="linux",
        username="root",
        key_file=str(server.client_key),
        port=server.port,
        command=f"cat {config_file}",
        timeout=30,
        **pinning,  # type: ignore[arg-type]
    )
    return Config(devices=(DeviceConfig("lab-linux", "router", "127.0.0.1", ssh=ssh),))


def test_config_backup_stores_versions_and_diffs_only_on_change(sshd: Sshd, tmp_path: Path) -> None:
    running = tmp_path / "running.conf"
    running.write_text("hostname lab-linux\ninterface eth0\n description 机房核心\n")
    config = config_for(sshd, running, known_hosts_file=pin(sshd, sshd.host_key))
    state_dir = tmp_path / "state"
    state = State.open(state_dir)
    [first] = backup_configs(config, state, state_dir)
    assert first.ok, first.reason
    assert (first.version, first.changed) == (1, False)
    stored = config_store.latest_text(state_dir / STORE_DIR, "lab-linux")
    assert stored is not None and "description 机房核心" in stored and "cat " not in stored
    [second] = backup_configs(config, state, state_dir)
    assert (second.ok, second.version, second.changed) == (True, 1, False)
    running.write_text("hostname lab-linux\ninterface eth0\n description 机房核心 uplink\n")
    [third] = backup_configs(config, state, state_dir)
    assert (third.ok, third.version, third.changed) == (True, 2, True)
    assert third.diff_file == str(state_dir / STORE_DIR / "lab-linux" / "000002.diff")
    diff = Path(third.diff_file).read_text()
    assert "- description 机房核心\n" in diff and "+ description 机房核心 uplink\n" in diff
    record = state.snapshot().records.get("device_configs")
    assert record is not None and record.payload["devices"][0]["changed"] is True
    state.close()


def test_gbk_output_over_ssh_is_decoded(sshd: Sshd, tmp_path: Path) -> None:
    running = tmp_path / "gbk.conf"
    running.write_bytes("sysname 县医院-核心交换机\n description 收费处\n".encode("gbk"))
    fp = fingerprint_of(sshd.host_key)
    config = config_for(sshd, running, host_key_fingerprint=fp)
    [outcome] = backup_configs(config, None, tmp_path / "state")
    assert outcome.ok, outcome.reason
    text = config_store.latest_text(tmp_path / "state" / STORE_DIR, "lab-linux")
    assert text == "sysname 县医院-核心交换机\n description 收费处\n"


def test_swapped_host_key_is_refused_before_credentials_are_sent(sshd: Sshd, tmp_path: Path) -> None:
    running = tmp_path / "running.conf"
    running.write_text("hostname lab-linux\n")
    pinned_a = pin(sshd, sshd.base / "host_key_a")
    config = config_for(sshd, running, known_hosts_file=pinned_a)
    [before] = backup_configs(config, None, tmp_path / "state")
    assert before.ok, before.reason
    assert "userauth-request for user root" in sshd.log.read_text()
    sshd.start(sshd.base / "host_key_b")  # the "device" now shows another key
    try:
        offset = sshd.log.stat().st_size
        [after] = backup_configs(config, None, tmp_path / "state")
        assert not after.ok and after.host_key_mismatch
        assert "host key changed" in after.reason and "Nothing was sent" in after.reason
        time.sleep(0.3)
        with open(sshd.log, "rb") as fh:
            fh.seek(offset)
            tail = fh.read().decode("utf-8", "replace")
        assert "Connection from 127.0.0.1" in tail  # we did connect (the handshake) ...
        assert "userauth-request" not in tail  # ... and never tried to log in
        fp_config = config_for(sshd, running, host_key_fingerprint=fingerprint_of(sshd.base / "host_key_a"))
        [by_fp] = backup_configs(fp_config, None, tmp_path / "state")
        assert not by_fp.ok and by_fp.host_key_mismatch
    finally:
        sshd.start(sshd.base / "host_key_a")


def test_unpinned_host_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config = config_for(sshd, tmp_path / "x.conf", known_hosts_file=str(empty))
    [outcome] = backup_configs(config, None, tmp_path / "state")
    assert not outcome.ok and "no pinned host key" in outcome.reason


def test_no_ssh_devices_means_no_netmiko_import(tmp_path: Path) -> None:
    code = (
        "import sys; from agent.actions.device_configs import backup_configs;"
        "from agent.config.schema import Config; from pathlib import Path;"
        f"assert backup_configs(Config(), None, Path({str(tmp_path)!r})) == [];"
        "bad = [m for m in ('netmiko', 'paramiko', 'pysnmp') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_wrong_client_key_fails_with_authentication_reason(sshd: Sshd, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other_key")
    config = config_for(sshd, tmp_path / "x.conf", known_hosts_file=pin(sshd, sshd.host_key))
    assert config.devices[0].ssh is not None
    device = replace(config.devices[0], ssh=replace(config.devices[0].ssh, key_file=str(other)))
    [outcome] = backup_configs(Config(devices=(device,)), None, tmp_path / "state")
    assert not outcome.ok and "authentication failed" in outcome.reason


def test_cli_config_backup_prints_json_and_exit_code(sshd: Sshd, tmp_path: Path) -> None:
    running = tmp_path / "running.conf"
    running.write_text("hostname lab-linux\n")
    known = pin(sshd, sshd.host_key)
    for case, pinned in (("ok", known), ("refused", str(tmp_path / "empty_known_hosts"))):
        Path(tmp_path / "empty_known_hosts").write_text("")
        path = tmp_path / f"{case}.yaml"
        path.write_text(
            f"state_dir: {tmp_path / 'state'}\n"
            "devices:\n"
            "  - {name: lab-linux, kind: router, address: 127.0.0.1,\n"
            "     ssh: {platform: linux, username: root,\n"
            f"     key_file: {sshd.client_key}, port: {sshd.port}, known_hosts_file: {pinned},\n"
            f"     command: 'cat {running}'}}}}\n"
        )
        done = subprocess.run(
            [sys.executable, "-m", "agent", "devices", "config-backup", "--json", "-c", str(path)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        [item] = json.loads(done.stdout)["devices"]
        if case == "ok":
            assert done.returncode == 0 and item["ok"] and item["version"] == 1, done.stderr
        else:
            assert done.returncode == 1 and not item["ok"] and item["host_key_mismatch"]
