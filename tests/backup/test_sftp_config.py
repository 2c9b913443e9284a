"""sftp repositories in the config: validated strictly, and the ssh command hostward gives restic.

The ssh messages below are OpenSSH 9.2's own (Debian 12), as restic 0.14 relays them with its
"subprocess ssh: " prefix; recorded from the real programs in tests/backup/test_sftp_offsite.py.
"""

from __future__ import annotations

import pytest

from agent.config.schema import Config
from backup.errors import Exit
from backup.sftp import SshOptions, restic_options, ssh_argv, ssh_failure
from common.schema import SchemaError, load_text

SFTP = """
backup:
  sources: [/srv/his-data]
  repositories:
    primary: {url: /mnt/backup/hostward, password_file: /etc/hostward/restic.pass}
    secondary:
      url: "%s"
      password_file: /etc/hostward/restic.pass
      %s
"""
SSH = "ssh: {port: 2222, identity_file: /etc/hostward/id_ed25519, known_hosts_file: /etc/hostward/kh}"
OPTS = SshOptions(2222, "/etc/hostward/id_ed25519", "/etc/hostward/kh", 15, 15, 4)
URL = "sftp:backup@offsite.example:/srv/hostward"


def problems(url: str, ssh: str = SSH) -> list[str]:
    with pytest.raises(SchemaError) as info:
        load_text(Config, SFTP % (url, ssh))
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def test_an_sftp_repository_with_its_ssh_settings_loads() -> None:
    config = load_text(Config, SFTP % (URL, SSH))
    secondary = config.backup.repositories.secondary
    assert secondary is not None and secondary.ssh is not None
    assert (secondary.ssh.port, secondary.ssh.alive_interval, secondary.ssh.alive_count) == (2222, 15, 4)


@pytest.mark.parametrize(
    ("url", "ssh", "path", "word"),
    [
        (URL, "", "backup.repositories.secondary.ssh", "needs ssh"),
        ("/mnt/other", SSH, "backup.repositories.secondary.ssh", "only an sftp"),
        ("sftp://backup@offsite.example:2222//srv", SSH, "backup.repositories.secondary.url", "ssh.port"),
        ("sftp:-oProxyCommand=x:/srv", SSH, "backup.repositories.secondary.url", "host"),
        ("sftp:bad user@offsite.example:/srv", SSH, "backup.repositories.secondary.url", "expected"),
        (URL, SSH.replace("/etc/hostward/id_ed25519", '"/etc/host ward/id"'),
         "backup.repositories.secondary.ssh.identity_file", "spaces"),
        (URL, SSH.replace("/etc/hostward/kh", "'C:\\\\ProgramData\\\\kh'"),
         "backup.repositories.secondary.ssh.known_hosts_file", "backslashes"),
        (URL, SSH.replace("port: 2222", "port: 0"), "backup.repositories.secondary.ssh.port", ""),
        (URL, SSH.replace("2222,", "2222, password: x,"), "backup.repositories.secondary.ssh", "password"),
    ],
)  # fmt: skip
def test_an_unsafe_or_incomplete_sftp_repository_is_a_config_error(
    url: str, ssh: str, path: str, word: str
) -> None:
    found = problems(url, ssh)
    assert any(p.startswith(path) and word in p for p in found), found


def test_the_ssh_command_pins_the_host_key_and_refuses_passwords_as_an_argument_list() -> None:
    argv = ssh_argv(URL, OPTS)
    assert argv[:3] == ("ssh", "-F", "none")
    options = {argv[i + 1] for i, a in enumerate(argv) if a == "-o"}
    assert {
        "StrictHostKeyChecking=yes", "UserKnownHostsFile=/etc/hostward/kh",
        "GlobalKnownHostsFile=none", "PasswordAuthentication=no", "KbdInteractiveAuthentication=no",
        "BatchMode=yes", "IdentitiesOnly=yes", "ConnectTimeout=15", "ServerAliveInterval=15",
        "ServerAliveCountMax=4",
    } <= options  # fmt: skip
    assert argv[-7:] == ("-p", "2222", "-l", "backup", "-s", "offsite.example", "sftp")
    assert restic_options(URL, OPTS) == ("-o", "sftp.command=" + " ".join(argv))


def test_a_path_restic_would_split_never_reaches_the_ssh_command() -> None:
    with pytest.raises(ValueError, match="spaces"):
        ssh_argv(URL, SshOptions(22, "/etc/host ward/id", "/etc/hostward/kh"))
    with pytest.raises(ValueError, match="host"):
        ssh_argv("sftp:-oProxyCommand=touch:/x", OPTS)


CHANGED = """\
subprocess ssh: @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
subprocess ssh: @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
subprocess ssh: The fingerprint for the ED25519 key sent by the remote host is
subprocess ssh: SHA256:eBKRAzkfCAvah3D99nwWPYE+VoFQDNLSmH/bE4lLMg4.
subprocess ssh: Host key verification failed.
Fatal: unable to open repository at sftp:backup@offsite.example:/srv: unable to start the sftp session
"""
UNKNOWN = (
    "subprocess ssh: No ED25519 host key is known for [offsite.example]:2222 and you have requested"
    " strict checking.\nsubprocess ssh: Host key verification failed.\n"
)


@pytest.mark.parametrize(
    ("stderr", "kind", "words"),
    [
        (CHANGED, Exit.HOST_KEY, ("CHANGED", "ED25519 SHA256:eBKRAzkfCAvah3D99nwWPYE+VoFQDNLSmH/bE4lLMg4",
                                  "/etc/hostward/kh", "offsite.example port 2222")),
        (UNKNOWN, Exit.HOST_KEY, ("no ED25519 host key", "[offsite.example]:2222", "never accepted")),
        ("subprocess ssh: Host key verification failed.\n", Exit.HOST_KEY, ("verification failed",)),
        ("subprocess ssh: backup@offsite.example: Permission denied (publickey).\n", Exit.SSH_AUTH,
         ("/etc/hostward/id_ed25519", "publickey", "password login is off")),
        ("subprocess ssh: Timeout, server offsite.example not responding.\n", Exit.UNREACHABLE,
         ("not responding",)),
        ("subprocess ssh: ssh: connect to host offsite.example port 2222: Connection refused\n",
         Exit.UNREACHABLE, ("Connection refused",)),
    ],
)  # fmt: skip
def test_ssh_messages_name_the_host_key_the_identity_or_the_link(
    stderr: str, kind: Exit, words: tuple[str, ...]
) -> None:
    found = ssh_failure(stderr, URL, OPTS)
    assert found is not None and found[0] is kind
    assert all(w in found[1] for w in words), found[1]


def test_a_failure_without_ssh_messages_is_not_blamed_on_ssh() -> None:
    assert ssh_failure("Fatal: wrong password or no key found\n", URL, OPTS) is None
