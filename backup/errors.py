"""Backup errors (each carries the repository it is about) and restic exit-code mapping.

restic documents exit codes 0 ok, 1 fatal, 3 incomplete snapshot (some source files could
not be read), 10 repository missing, 11 locked, 12 wrong password, 130 interrupted. restic 0.14
(Debian 12) emits only 0, 1, 3 and 130: a missing repository, a lock held by another process
and a wrong password all exit 1. `classify` therefore reads stderr as well, so each case is
reported distinctly whatever the version.
"""

from __future__ import annotations

import re
from enum import Enum

from common.errors import HostwardError


class Exit(Enum):
    """What a restic exit meant."""

    OK = "ok"
    PARTIAL = "partial"
    FATAL = "fatal"
    MISSING = "repository_missing"
    LOCKED = "locked"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (a kind, not a secret)
    INTERRUPTED = "interrupted"
    NO_SPACE = "no_space"
    TIMEOUT = "timeout"
    HOST_KEY = "host_key"  # an sftp server's host key is unknown or changed (backup/sftp.py)
    SSH_AUTH = "ssh_auth"  # the sftp server refused hostward's key
    UNREACHABLE = "unreachable"  # the sftp server cannot be reached or stopped answering


_CODES = {
    0: Exit.OK,
    1: Exit.FATAL,
    3: Exit.PARTIAL,
    10: Exit.MISSING,
    11: Exit.LOCKED,
    12: Exit.WRONG_PASSWORD,
    130: Exit.INTERRUPTED,
}
# Order matters: the first match wins. Patterns are restic's own messages (0.14 .. 0.17).
_STDERR = (
    (re.compile(r"wrong password or no key found"), Exit.WRONG_PASSWORD),
    (
        re.compile(
            r"Is there a repository at the following location\?|unable to open config file"
            r"|repository does not exist"
        ),
        Exit.MISSING,
    ),
    (re.compile(r"repository is already locked"), Exit.LOCKED),
    (re.compile(r"no space left on device|disk quota exceeded", re.IGNORECASE), Exit.NO_SPACE),
)


def classify(returncode: int, stderr: str, timed_out: bool = False) -> Exit:
    """Map a restic exit code (and its stderr, for restic < 0.15) to an `Exit`.

    >>> classify(1, "Fatal: wrong password or no key found")
    <Exit.WRONG_PASSWORD: 'wrong_password'>
    """
    if timed_out:
        return Exit.TIMEOUT
    if returncode < 0:  # killed by a signal
        return Exit.INTERRUPTED
    kind = _CODES.get(returncode, Exit.FATAL)
    if kind in (Exit.FATAL, Exit.PARTIAL):
        for pattern, found in _STDERR:
            if pattern.search(stderr):
                # A partial backup that also ran out of space is a failure, not "partial".
                if kind is Exit.PARTIAL and found is not Exit.NO_SPACE:
                    continue
                return found
    return kind


class BackupError(HostwardError):
    """Base of backup errors. `repository` names the copy ("primary", "secondary", or a path)."""

    kind = Exit.FATAL

    def __init__(self, repository: str, message: str) -> None:
        super().__init__(f"{repository}: {message}")
        self.repository = repository
        self.detail = message


class ResticFailed(BackupError):
    """restic failed for a reason without a class of its own (exit 1 or an unknown code)."""


class RepositoryMissing(BackupError):
    """No repository at the location (an unmounted disk?). Never initialised implicitly."""

    kind = Exit.MISSING


class RepositoryLocked(BackupError):
    """A live process holds a lock and did not release it in the time we waited."""

    kind = Exit.LOCKED


class WrongPassword(BackupError):
    """The password does not open the repository."""

    kind = Exit.WRONG_PASSWORD


class Interrupted(BackupError):
    """restic was interrupted (a signal) or cancelled."""

    kind = Exit.INTERRUPTED


class NoSpace(BackupError):
    """The repository's disk is full; snapshots already there are untouched."""

    kind = Exit.NO_SPACE


class ResticTimeout(BackupError):
    """restic ran past its timeout and was killed."""

    kind = Exit.TIMEOUT


class HostKeyRejected(BackupError):
    """The sftp server showed a host key that is not the pinned one (or none is pinned)."""

    kind = Exit.HOST_KEY


class SshAuthFailed(BackupError):
    """The sftp server refused hostward's identity."""

    kind = Exit.SSH_AUTH


class Unreachable(BackupError):
    """The sftp server cannot be reached, or the link stopped answering."""

    kind = Exit.UNREACHABLE


class ResticUnavailable(BackupError):
    """The restic program is missing or too old."""


class PasswordUnavailable(BackupError):
    """The password file or environment variable named by the config is missing."""


class RestoreRefused(BackupError):
    """A restore target would overwrite live data (and --in-place was not given)."""


_ERRORS: dict[Exit, type[BackupError]] = {
    Exit.MISSING: RepositoryMissing,
    Exit.LOCKED: RepositoryLocked,
    Exit.WRONG_PASSWORD: WrongPassword,
    Exit.INTERRUPTED: Interrupted,
    Exit.NO_SPACE: NoSpace,
    Exit.TIMEOUT: ResticTimeout,
    Exit.HOST_KEY: HostKeyRejected,
    Exit.SSH_AUTH: SshAuthFailed,
    Exit.UNREACHABLE: Unreachable,
}


def error_for(kind: Exit, repository: str, message: str) -> BackupError:
    """The error class that reports `kind` for `repository`."""
    return _ERRORS.get(kind, ResticFailed)(repository, message)
