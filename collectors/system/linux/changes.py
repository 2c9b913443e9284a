"""Changes to a Linux system under a root: files written atomically, account tools run with -R.

Only `policies/enforce.py` calls these, and only for checks opted in to enforcement.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from collectors.system import rootfs
from collectors.system.atomic import write_atomic
from collectors.system.files import SystemReadError
from collectors.system.runner import CommandResult, Runner
from common.errors import CommandError

TOOL_TIMEOUT = 30.0


def write_file_atomic(root: str | os.PathLike[str], path: str, content: str, mode: int = 0o644) -> None:
    """Replace `path` under `root` with `content` (temp file + rename: never half-written)."""
    write_bytes_atomic(root, path, content.encode("utf-8"), mode)


def write_bytes_atomic(root: str | os.PathLike[str], path: str, content: bytes, mode: int = 0o644) -> None:
    """Replace `path` under `root` with `content`: temp file, fsync, rename, fsync of the
    directory, so after a crash or a power cut the file is either the old one or the new one.
    The directory is resolved inside `root` (a symlinked `/etc` never leads out of it); the
    rename replaces a link named `path` itself, never what it points to."""
    parent, _, name = path.rstrip("/").rpartition("/")
    try:
        directory = rootfs.dir_path(root, parent or "/", create=True)
    except OSError as exc:
        raise SystemReadError(path, f"cannot write: {exc}") from exc
    try:
        write_atomic(Path(directory, name), content, mode)
    except OSError as exc:
        raise SystemReadError(path, f"cannot write: {exc}") from exc


def remove_file(root: str | os.PathLike[str], path: str) -> None:
    """Remove `path` under `root` if it exists (durably)."""
    parent, _, name = path.rstrip("/").rpartition("/")
    try:
        directory = rootfs.dir_path(root, parent or "/")
        os.unlink(os.path.join(directory, name))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SystemReadError(path, f"cannot remove: {exc}") from exc
    sync_dir(directory)


def sync_dir(directory: str | os.PathLike[str]) -> None:
    """fsync a directory so a rename or unlink in it survives a crash (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def set_key_value(text: str, key: str, value: str) -> str:
    """login.defs-style text with `KEY value` set (the first active line replaced, else appended)."""
    pattern = re.compile(rf"^(\s*){re.escape(key)}(\s+)\S.*$", re.M)
    if pattern.search(text):
        return pattern.sub(lambda m: f"{m.group(1)}{key}{m.group(2)}{value}", text, count=1)
    return text + ("" if text.endswith("\n") or not text else "\n") + f"{key}\t{value}\n"


def _root_args(root: str | os.PathLike[str]) -> tuple[str, ...]:
    return () if os.fspath(root) in ("/", "") else ("-R", os.path.abspath(os.fspath(root)))


def run_tool(runner: Runner, argv: Sequence[str]) -> CommandResult:
    """Run an account/network tool; a missing tool raises SystemReadError (the change fails)."""
    try:
        return runner.run(tuple(argv), timeout=TOOL_TIMEOUT)
    except CommandError as exc:
        raise SystemReadError(argv[0], str(exc)) from exc


def chage_max_days(runner: Runner, root: str | os.PathLike[str], user: str, days: int) -> CommandResult:
    return run_tool(runner, ("chage", *_root_args(root), "-M", str(days), "--", user))


def lock_account(runner: Runner, root: str | os.PathLike[str], user: str) -> CommandResult:
    """Lock the password and expire the account (so SSH keys stop working too)."""
    return run_tool(runner, ("usermod", *_root_args(root), "-L", "-e", "1", "--", user))


def link_down(runner: Runner, name: str) -> CommandResult:
    return run_tool(runner, ("ip", "link", "set", "dev", name, "down"))
