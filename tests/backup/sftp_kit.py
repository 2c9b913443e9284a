"""A real OpenSSH server on loopback for the off-site (sftp) backup tests.

As in tests/devices/test_ssh_backup.py: a private sshd_config on a free 127.0.0.1 port, its own
host keys, key authentication only, no PAM, sftp served by sshd itself (`internal-sftp`). Only
the account running the tests may log in, only from 127.0.0.1 (root only when the tests run as
root, and then only on this private server); the system's sshd config is neither read nor changed.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from testkit import SSHD, free_port, start_sshd

from backup.config import SshConfig


def keygen(path: Path, kind: str = "ed25519") -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
    return path


@dataclass
class Sshd:
    port: int
    base: Path
    client_key: Path
    user: str
    host_key: Path = Path()
    proc: subprocess.Popen[bytes] | None = None
    stopped: list[int] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.base / "sshd.log"

    def start(self, host_key: Path | None = None) -> None:
        self.stop()
        self.host_key = host_key or self.base / "host_key_a"
        conf = self.base / "sshd_config"
        conf.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
            f"PidFile {self.base / 'sshd.pid'}\nUsePAM no\nPermitRootLogin prohibit-password\n"
            f"AuthorizedKeysFile {self.base / 'authorized_keys'}\nPasswordAuthentication no\n"
            f"KbdInteractiveAuthentication no\nStrictModes no\nAllowUsers {self.user}@127.0.0.1\n"
            "Subsystem sftp internal-sftp\nClientAliveInterval 0\nLogLevel VERBOSE\n"
        )
        self.proc = start_sshd(conf, self.log)

    def sessions(self) -> list[psutil.Process]:
        """The per-connection sshd processes (children of the listener)."""
        if self.proc is None:
            return []
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """The server dies with its connections (a crash, a power cut at the far site)."""
        for child in self.sessions():
            child.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def freeze(self) -> None:
        """The link stops answering: the listener and every connection are stopped (SIGSTOP)."""
        for proc in [*self.sessions(), *([psutil.Process(self.proc.pid)] if self.proc else [])]:
            proc.send_signal(signal.SIGSTOP)
            self.stopped.append(proc.pid)

    def thaw(self) -> None:
        for pid in self.stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.stopped.clear()

    def stop(self) -> None:
        self.thaw()
        if self.proc is not None:
            for child in self.sessions():
                child.send_signal(signal.SIGKILL)
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def known_hosts(self, host_key: Path | None = None) -> Path:
        """A known_hosts file pinning `host_key` (default: the first key) for [127.0.0.1]:port."""
        key = host_key or self.base / "host_key_a"
        kind, b64 = key.with_suffix(".pub").read_text().split()[:2]
        path = self.base / f"known_hosts-{key.name}"
        path.write_text(f"[127.0.0.1]:{self.port} {kind} {b64}\n")
        return path

    def ssh(self, **overrides: object) -> SshConfig:
        values: dict[str, object] = {
            "port": self.port,
            "identity_file": str(self.client_key),
            "known_hosts_file": str(self.known_hosts()),
            "connect_timeout": 3,
            "alive_interval": 1,
            "alive_count": 2,
        }
        values.update(overrides)
        return SshConfig(**values)  # type: ignore[arg-type]

    def url(self, remote: Path) -> str:
        return f"sftp:{self.user}@127.0.0.1:{remote}"


def fingerprint_of(host_key: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-lf", str(host_key.with_suffix(".pub"))], capture_output=True, text=True, check=True
    ).stdout
    return out.split()[1]


def new_server(base: Path) -> Sshd:
    """A started sshd with its own host keys, the client's key authorised (and a stranger's not)."""
    if not Path(SSHD).exists():
        pytest.skip("Debian openssh-server is not installed (scripts/debian-deps.sh test)")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
    client = keygen(base / "client_key")
    keygen(base / "stranger_key")  # a key the server does not know
    (base / "authorized_keys").write_text('from="127.0.0.1" ' + (base / "client_key.pub").read_text())
    keygen(base / "host_key_a")
    keygen(base / "host_key_b")
    server = Sshd(free_port(), base, client, getpass.getuser())
    server.start()
    return server


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    server = new_server(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        server.stop()
