"""sftp repositories: hostward makes restic's ssh command itself, with the host key pinned.

restic 0.14 has no `sftp.args`; its `-o sftp.command=...` is ONE string that restic splits on
white space and quotes (internal/backend/shell_split.go). hostward builds the command as an
argument list and joins it only after refusing every character restic's splitter would read
(white space, quotes, backslashes, control characters): a path that needs quoting is a config
error, never a shell-like string. The ssh options make the connection strict and bounded:
`StrictHostKeyChecking=yes` against the configured known_hosts file only (no global file,
no ~/.ssh/config: `-F none`), no password or keyboard-interactive login, `BatchMode`, only the
configured identity, and `ConnectTimeout` / `ServerAliveInterval` / `ServerAliveCountMax` so
that a link that stops answering ends the connection instead of hanging the night.

ssh's own messages reach restic's stderr; `ssh_failure` reads them so that an unknown or
changed host key, a refused identity and an unreachable server are each reported as such,
for that repository only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from backup.errors import Exit
from common.frozen import frozen

if TYPE_CHECKING:
    from backup.config import SshConfig

_URL = re.compile(r"^sftp:(?:(?P<user>[^@\s/:]+)@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s@/:\[\]]+):(?P<path>.*)$")
_USER = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._-]*$")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)$")
_UNSAFE = re.compile(r"[\s\"'\\\x00-\x1f\x7f]")


@frozen
class SshOptions:
    """The ssh settings of one sftp repository (from `backup.repositories.*.ssh`)."""

    port: int
    identity_file: str
    known_hosts_file: str
    connect_timeout: int = 15
    alive_interval: int = 15
    alive_count: int = 4
    program: str = "ssh"


def ssh_options(config: SshConfig) -> SshOptions:
    return SshOptions(
        config.port, config.identity_file, config.known_hosts_file,
        config.connect_timeout, config.alive_interval, config.alive_count,
    )  # fmt: skip


def unsafe_path(path: str) -> str | None:
    """Why `path` cannot go into restic's sftp command, or None."""
    if not path:
        return "must not be empty"
    if _UNSAFE.search(path):
        return (
            "must not contain spaces, quotes, backslashes or control characters (restic splits its"
            " sftp command on them; on Windows write C:/ProgramData/hostward/id_ed25519)"
            " / 路径不能含空格、引号或反斜杠"
        )
    if path.startswith("-"):
        return "must not start with '-'"
    return None


def split_url(url: str) -> tuple[str, str, str] | None:
    """(user, host, path) of `sftp:[user@]host:path`; the host without IPv6 brackets."""
    match = _URL.match(url)
    if match is None:
        return None
    return match.group("user") or "", match.group("host").strip("[]"), match.group("path")


def sftp_url_problem(url: str) -> str | None:
    """Why `url` is not an sftp location hostward can reach safely, or None."""
    if url.startswith("sftp://"):
        return "write sftp:user@host:/path (the port goes in ssh.port)"
    match = _URL.match(url)
    if match is None:
        return "expected sftp:user@host:/path"
    user, host = match.group("user") or "", match.group("host")
    if user and not _USER.match(user):
        return f"user {user!r}: use letters, digits, '.', '_' and '-' (not first)"
    if not _HOST.match(host):
        return f"host {host!r}: a host name or address, not starting with '-'"
    if not match.group("path"):
        return "names no path on the server"
    return None


def ssh_argv(url: str, opts: SshOptions) -> tuple[str, ...]:
    """The ssh command restic runs for `url`, as an argument list. Raises ValueError when the URL
    or a path cannot be passed safely (config validation refuses those first)."""
    problem = sftp_url_problem(url)
    parts = split_url(url)
    if problem or parts is None:
        raise ValueError(f"{url!r}: {problem}")
    user, host, _ = parts
    for what, path in (("identity_file", opts.identity_file), ("known_hosts_file", opts.known_hosts_file),
                       ("ssh program", opts.program)):  # fmt: skip
        bad = unsafe_path(path)
        if bad:
            raise ValueError(f"{what} {path!r} {bad}")
    options = {
        "StrictHostKeyChecking": "yes",
        "UserKnownHostsFile": opts.known_hosts_file,
        "GlobalKnownHostsFile": "none",
        "UpdateHostKeys": "no",
        "PasswordAuthentication": "no",
        "KbdInteractiveAuthentication": "no",
        "BatchMode": "yes",
        "IdentitiesOnly": "yes",
        "ConnectTimeout": str(opts.connect_timeout),
        "ServerAliveInterval": str(opts.alive_interval),
        "ServerAliveCountMax": str(opts.alive_count),
    }
    argv = [opts.program, "-F", "none"]
    for key, value in options.items():
        argv += ["-o", f"{key}={value}"]
    argv += ["-i", opts.identity_file, "-p", str(opts.port)]
    if user:
        argv += ["-l", user]
    return (*argv, "-s", host, "sftp")


def restic_options(url: str, opts: SshOptions) -> tuple[str, ...]:
    """restic's global options for this repository: `-o sftp.command=<the ssh argv, joined>`."""
    argv = ssh_argv(url, opts)
    if any(_UNSAFE.search(a) for a in argv):  # every part was validated; this keeps it so
        raise ValueError("an ssh argument needs quoting; refused")
    return ("-o", "sftp.command=" + " ".join(argv))


_CHANGED = re.compile(r"REMOTE HOST IDENTIFICATION HAS CHANGED")
_SENT = re.compile(
    r"fingerprint for the (\S+) key sent by the remote host is\s*(?:subprocess ssh:\s*)?"
    r"(SHA256:[A-Za-z0-9+/=]+)"
)
_UNKNOWN = re.compile(r"No (\S+) host key is known for (\S+)")
_VERIFY = re.compile(r"Host key verification failed")
_DENIED = re.compile(r"Permission denied \(([^)]*)\)")
_UNREACHABLE = re.compile(
    r"Connection refused|Connection timed out|timed out during banner exchange"
    r"|Timeout, server \S+ not responding"
    r"|Connection closed by|Connection reset by|Broken pipe|No route to host|Could not resolve hostname"
    r"|ssh command exited|connection lost"
)


def ssh_failure(stderr: str, url: str, opts: SshOptions) -> tuple[Exit, str] | None:
    """What ssh's own messages in restic's stderr say went wrong, or None."""
    parts = split_url(url)
    where = f"{parts[1] if parts else url} port {opts.port}"
    if _CHANGED.search(stderr):
        sent = _SENT.search(stderr)
        shown = f" ({sent.group(1)} {sent.group(2)})" if sent else ""
        return Exit.HOST_KEY, (
            f"the host key of {where} has CHANGED{shown}: it is not the key pinned in "
            f"{opts.known_hosts_file}; nothing was sent. If the server was rebuilt, confirm the new key "
            "with its administrator and replace the line / 远程主机密钥已变更，已拒绝连接"
        )
    unknown = _UNKNOWN.search(stderr)
    if unknown:
        return Exit.HOST_KEY, (
            f"no {unknown.group(1)} host key of {where} ({unknown.group(2)}) is pinned in "
            f"{opts.known_hosts_file}: the server's host key is unknown, the connection was refused "
            "(keys are never accepted automatically) / 主机密钥未登记，已拒绝连接"
        )
    if _VERIFY.search(stderr):
        return Exit.HOST_KEY, (
            f"host key verification failed for {where} against {opts.known_hosts_file} / 主机密钥校验失败"
        )
    denied = _DENIED.search(stderr)
    if denied:
        return Exit.SSH_AUTH, (
            f"{where} refused the login with {opts.identity_file} (permission denied: {denied.group(1)});"
            " password login is off / 服务器拒绝了该密钥"
        )
    if _UNREACHABLE.search(stderr):
        line = next(ln.strip() for ln in stderr.splitlines() if _UNREACHABLE.search(ln))
        return Exit.UNREACHABLE, (
            f"{where} cannot be reached or stopped answering: {line[:200]} / 无法连接异地服务器"
        )
    return None
