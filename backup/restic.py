"""A thin, typed wrapper of the restic program (Debian 12 ships 0.14; 0.14+ is required).

One method per restic subcommand, each building an argument tuple and parsing `--json` output
into frozen dataclasses. The repository location and password reach restic through the child's
environment (`RESTIC_REPOSITORY`, `RESTIC_PASSWORD_FILE` or `RESTIC_PASSWORD`), never argv:
a `rest:` URL may carry credentials, and argv is world-readable in /proc.

Errors are raised as `backup.errors` classes naming the repository (see `classify`).
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from backup import parse
from backup.errors import (
    Exit,
    PasswordUnavailable,
    ResticUnavailable,
    classify,
    error_for,
)
from backup.model import BackupSummary, CheckResult, LockInfo, Node, Snapshot, parse_time
from backup.secret_acl import windows_password_file_problem
from backup.sftp import SshOptions, restic_options, ssh_argv, ssh_failure
from collectors.system.runner import CommandResult, Runner
from common.errors import CommandError
from common.frozen import frozen

log = logging.getLogger(__name__)
MIN_VERSION = (0, 14, 0)
_VERSION = re.compile(r"restic (\d+)\.(\d+)\.(\d+)")
_SFTP_START = re.compile(r"unable to start the sftp session|ssh command exited|file already closed")
StatusCallback = Callable[[Mapping[str, Any]], None]


@frozen
class Repository:
    """Where one copy lives. `name` is "primary"/"secondary" (or a label for offline media)."""

    name: str
    url: str
    password_file: str = ""
    password_env: str = ""
    limit_upload: int = 0
    ssh: SshOptions | None = None  # an sftp: repository reached through hostward's own ssh command

    def global_args(self) -> tuple[str, ...]:
        """restic options placed before the subcommand (the pinned ssh command for sftp:)."""
        return restic_options(self.url, self.ssh) if self.ssh is not None else ()

    def child_env(self, prefix: str = "RESTIC_") -> dict[str, str]:
        """The environment that tells restic where and how to open this repository.

        Raises PasswordUnavailable when the named file or variable does not exist, when group or
        others may read or write the file (POSIX), or when accounts other than SYSTEM and
        Administrators can read it (Windows).
        """
        env = {f"{prefix}REPOSITORY": self.url}
        if self.password_file:
            if not os.path.isfile(self.password_file):
                raise PasswordUnavailable(self.name, f"password file {self.password_file} does not exist")
            if os.name == "posix":
                check_password_file_mode_posix(self.name, self.password_file)
            exposed = windows_password_file_problem(self.password_file)
            if exposed is not None:
                raise PasswordUnavailable(self.name, exposed)
            env[f"{prefix}PASSWORD_FILE"] = self.password_file
        else:
            value = os.environ.get(self.password_env)
            if not value:
                raise PasswordUnavailable(self.name, f"environment variable {self.password_env} is not set")
            env[f"{prefix}PASSWORD"] = value
        return env


def check_password_file_mode_posix(repository: str, path: str) -> None:
    """Refuse a password file that its group or others may read or write (as ssh refuses such
    a private key). POSIX modes only: on Windows the file's DACL is checked elsewhere."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError as exc:
        raise PasswordUnavailable(repository, f"password file {path} cannot be read: {exc}") from exc
    if mode & 0o077:
        raise PasswordUnavailable(
            repository,
            f"password file {path} is open to others (mode {mode:04o}); "
            f"run `chmod 600 {path}` / 密码文件权限过宽，请执行 chmod 600",
        )


def restic_version(runner: Runner, binary: str = "restic") -> tuple[int, int, int]:
    """The installed restic's version; raises ResticUnavailable if missing or older than 0.14."""
    try:
        result = runner.run((binary, "version"), timeout=30)
    except CommandError as exc:
        raise ResticUnavailable("restic", f"{binary} cannot be run: {exc}") from exc
    match = _VERSION.search(result.stdout.decode("utf-8", "replace"))
    if not result.ok or match is None:
        raise ResticUnavailable("restic", f"{binary} version: unexpected answer {result.stderr_tail()!r}")
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if version < MIN_VERSION:
        raise ResticUnavailable("restic", f"restic {version} is older than 0.14")
    return version


class Restic:
    """restic bound to one repository, run through a `Runner`."""

    def __init__(
        self,
        repo: Repository,
        runner: Runner,
        *,
        binary: str = "restic",
        cache_dir: str = "",
        timeout: float = 300.0,
    ) -> None:
        self.repo = repo
        self.runner = runner
        self.binary = binary
        self.cache_dir = cache_dir
        self.timeout = timeout

    # -- plumbing ---------------------------------------------------------------------------

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: float | None = None,
        on_line: Callable[[bytes], None] | None = None,
        allow: Iterable[Exit] = (),
        extra_env: Mapping[str, str] | None = None,
        options: Sequence[str] = (),
    ) -> tuple[CommandResult, Exit]:
        """Run `restic ARGS`; return the result and its meaning, or raise for a non-allowed exit."""
        env = self.repo.child_env()
        if self.cache_dir:
            env["RESTIC_CACHE_DIR"] = self.cache_dir
        env.update(extra_env or {})
        try:
            argv = (self.binary, *self.repo.global_args(), *options, *args)
        except ValueError as exc:
            raise ResticUnavailable(self.repo.name, f"sftp repository: {exc}") from exc
        try:
            result = self.runner.run(argv, timeout=timeout or self.timeout, env=env, on_stdout_line=on_line)
        except CommandError as exc:
            raise ResticUnavailable(self.repo.name, str(exc)) from exc
        stderr = result.stderr.decode("utf-8", "replace")
        kind = classify(result.returncode, stderr, result.timed_out)
        ssh = self._ssh_failure(kind, stderr)
        if ssh is not None:
            log.debug("restic %s on %s: %s", args[0], self.repo.name, ssh[0].value)
            raise error_for(ssh[0], self.repo.name, f"restic {args[0]} ({ssh[0].value}): {ssh[1]}")
        log.debug("restic %s on %s: exit %s (%s)", args[0], self.repo.name, result.returncode, kind.value)
        if kind is Exit.OK or kind in set(allow):
            return result, kind
        raise error_for(kind, self.repo.name, _message(args[0], result, kind))

    def _ssh_failure(self, kind: Exit, stderr: str) -> tuple[Exit, str] | None:
        """ssh's own account of a failed sftp run (host key, login, link), or None."""
        ssh = self.repo.ssh
        if ssh is None or kind in (Exit.OK, Exit.PARTIAL, Exit.INTERRUPTED):
            return None
        found = ssh_failure(stderr, self.repo.url, ssh)
        if found is None and _SFTP_START.search(stderr):
            # restic 0.14 may exit before it has copied ssh's stderr (measured: "read |0: file
            # already closed" without ssh's lines): ask ssh itself, once, with the same options.
            try:
                probe = self.runner.run(ssh_argv(self.repo.url, ssh), timeout=ssh.connect_timeout + 10.0)
            except (CommandError, ValueError):
                return None
            found = ssh_failure(probe.stderr.decode("utf-8", "replace"), self.repo.url, ssh)
        return found

    # -- repository -------------------------------------------------------------------------

    def config(self) -> Mapping[str, Any]:
        """The repository's config (version, chunker polynomial): proves it exists and opens."""
        result, _ = self.run(("cat", "config", "--no-lock"))
        return parse.json_object(result.stdout, self.repo.name, "cat config")

    def init(self, copy_chunker_from: Repository | None = None) -> None:
        """Create the repository; with `copy_chunker_from`, reuse that one's chunker parameters."""
        args: tuple[str, ...] = ("init",)
        extra: dict[str, str] = {}
        if copy_chunker_from is not None:
            args += ("--copy-chunker-params",)
            extra = copy_chunker_from.child_env("RESTIC_FROM_")
        self.run(args, extra_env=extra)

    def snapshots(self, tags: Sequence[str] = ()) -> tuple[Snapshot, ...]:
        """Every snapshot (oldest first), optionally only those with all `tags`."""
        args: tuple[str, ...] = ("snapshots", "--json", "--no-lock")
        if tags:
            args += ("--tag", ",".join(tags))
        result, _ = self.run(args)
        return parse.snapshots(result.stdout, self.repo.name)

    # -- backup -----------------------------------------------------------------------------

    def backup(
        self,
        paths: Sequence[str],
        *,
        excludes: Sequence[str] = (),
        tags: Sequence[str] = (),
        fs_snapshot: bool = False,
        timeout: float | None = None,
        on_status: StatusCallback | None = None,
    ) -> BackupSummary:
        """Back up `paths`. A partial snapshot (unreadable files) returns status "partial".
        `fs_snapshot` (Windows): read from a Volume Shadow Copy, so open files are consistent."""
        args: list[str] = ["backup", "--json"]
        if fs_snapshot:
            args.append("--use-fs-snapshot")
        if on_status is None:
            # Without a progress display, -q spares restic its size pre-scan of the whole tree
            # (measured: ~10 % of the CPU of a backup of 30 000 files); the summary still comes.
            args.append("-q")
        for tag in tags:
            args += ["--tag", tag]
        for pattern in excludes:
            args += ["--exclude", pattern]
        if self.repo.limit_upload:
            args += ["--limit-upload", str(self.repo.limit_upload)]
        args += ["--", *paths]

        def on_line(line: bytes) -> None:
            message = parse.json_line(line) if on_status is not None else None
            if on_status is not None and message is not None and message.get("message_type") == "status":
                on_status(message)

        result, kind = self.run(args, timeout=timeout, on_line=on_line, allow=(Exit.PARTIAL,))
        return parse.backup_summary(result.stdout, result.stderr, self.repo.name, kind is Exit.PARTIAL)

    # -- verification -----------------------------------------------------------------------

    def check(self, read_data_subset: str = "", timeout: float | None = None) -> CheckResult:
        """`restic check` (with `--read-data-subset n/t` if given). Errors found are a result,
        not an exception; a missing repository or a wrong password still raise."""
        args: tuple[str, ...] = ("check",)
        if read_data_subset:
            args += ("--read-data-subset", read_data_subset)
        result, kind = self.run(args, timeout=timeout, allow=(Exit.FATAL,))
        ok, problems = parse.check_outcome(kind is Exit.OK, result.stdout, result.stderr)
        if kind is Exit.OK and not ok and not problems:
            problems = ("restic check exited 0 without saying `no errors were found`",)
        return CheckResult(
            repository=self.repo.name,
            ok=ok,
            subset=read_data_subset,
            duration=result.duration,
            problems=problems or (() if ok else (result.stderr_tail(300),)),
        )

    def stats_size(self, timeout: float | None = None) -> int:
        """Bytes the repository stores (`stats --mode raw-data`: after dedup and compression)."""
        result, _ = self.run(("stats", "--json", "--no-lock", "--mode", "raw-data"), timeout=timeout)
        return parse.stats_size(result.stdout, self.repo.name)

    # -- retention --------------------------------------------------------------------------

    def forget(self, keep: Sequence[str], timeout: float | None = None) -> int:
        """Forget snapshots outside the `keep` arguments; returns how many were removed."""
        result, _ = self.run(("forget", "--json", *keep), timeout=timeout)
        return parse.forgotten(result.stdout, self.repo.name)

    def prune(self, timeout: float | None = None) -> None:
        self.run(("prune",), timeout=timeout)

    # -- locks ------------------------------------------------------------------------------

    def list_locks(self) -> tuple[str, ...]:
        result, _ = self.run(("list", "locks", "--no-lock"))
        return parse.lock_ids(result.stdout, self.repo.name)

    def cat_lock(self, lock_id: str) -> LockInfo:
        result, _ = self.run(("cat", "lock", lock_id, "--no-lock"))
        return parse.lock(lock_id, result.stdout, self.repo.name)

    def unlock(self) -> None:
        """Remove stale locks only (restic's own rule). `--remove-all` is never used."""
        self.run(("unlock",))

    # -- restore ----------------------------------------------------------------------------

    def ls(self, snapshot: str, paths: Sequence[str] = ()) -> tuple[Node, ...]:
        """The nodes of `snapshot` (below `paths` if given)."""
        result, _ = self.run(("ls", "--json", "--no-lock", snapshot, *paths), timeout=self.timeout * 4)
        return parse.nodes(result.stdout, self.repo.name)

    def restore(
        self,
        snapshot: str,
        target: str,
        *,
        includes: Sequence[str] = (),
        verify: bool = True,
        timeout: float | None = None,
        on_line: Callable[[bytes], None] | None = None,
    ) -> CommandResult:
        """Restore `snapshot` into `target` (only `includes` if given), verifying the content;
        `on_line` sees each line of restic's output as it comes."""
        args = ["restore", "--json", snapshot, "--target", target]
        for pattern in includes:
            args += ["--include", pattern]
        if verify:
            args.append("--verify")
        result, _ = self.run(args, timeout=timeout, on_line=on_line)
        return result

    def copy(self, source: Repository, snapshot_ids: Sequence[str], timeout: float | None = None) -> None:
        """Copy `snapshot_ids` from `source` into this repository (restic skips those present).
        restic takes one sftp command per process: two sftp repositories must share it."""
        options = source.global_args()
        if self.repo.ssh is not None and source.ssh is not None and options != self.repo.global_args():
            raise ResticUnavailable(self.repo.name, f"cannot copy from {source.name}: other ssh settings")
        self.run(
            ("copy", *snapshot_ids), timeout=timeout, extra_env=source.child_env("RESTIC_FROM_"),
            options=() if self.repo.ssh is not None else options,
        )  # fmt: skip


def _message(command: str, result: CommandResult, kind: Exit) -> str:
    if kind is Exit.TIMEOUT:
        return f"restic {command} timed out after {result.duration:.0f}s"
    lines = [ln for ln in result.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith("Fatal:") or "error" in ln.lower()]
    text = (fatal or lines or [f"exit code {result.returncode}"])[-1].strip()
    hint = (
        " (is the backup disk mounted? mount it and run again; only a brand-new, never used"
        " location needs `hostward backup init` / 备份盘未挂载？请先挂载)"
        if kind is Exit.MISSING
        else ""
    )
    if "SSH_FX_FAILURE" in text:  # sftp (v3) reports a full disk or a quota only as "Failure"
        hint = " (the sftp server refused a write: is its disk full or a quota reached? / 异地磁盘已满？)"
    return f"restic {command} ({kind.value}): {text[:300]}{hint}"


__all__ = ["MIN_VERSION", "Repository", "Restic", "parse_time", "restic_version"]
