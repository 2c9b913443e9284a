"""Crash safety of enforcement: an undo log written ahead of every change.

Before enforcement replaces a file, the file's current bytes (or its absence) and mode are
added to the undo log; before it sets a registry value (Windows), the value's current type
and data (or its absence, and which keys did not exist yet) are; before it runs a changing
command (chage, usermod, ip link), the command is noted. The log is one JSON file in the
state directory, itself replaced atomically (temp + fsync + rename + directory fsync) at each
step, so it always describes at least what was changed. The run's journal entries carry the
log's id; once they are written the log is removed. A `kill -9` (or a power cut) in between
leaves the log behind, and the next start (the daemon, `hostward enforce`) recovers
(agent/actions/enforce.py): if the journal holds the id the run was complete; otherwise every
file and registry value is put back as it was (keys the run created are removed again when
empty), newest first, and that is journaled. A half-applied change is thus never left half
applied: it is rolled back, and the next `hostward enforce` applies it whole. Commands cannot
be undone; each is one idempotent step, reported as "may have run", and the next enforcement
completes it.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from collectors.system import filelock
from collectors.system.atomic import write_atomic
from collectors.system.files import FileTooLarge, read_bytes, stat_in
from collectors.system.linux.changes import remove_file, sync_dir, write_bytes_atomic
from collectors.system.windows.registry import Registry, RegValue, parents
from collectors.system.windows.registry import local as local_registry
from common.errors import HostwardError
from common.frozen import frozen

MAX_UNDO_BYTES = 16 * 1024 * 1024  # a file larger than this is not changed (it could not be put back)


class UndoError(HostwardError):
    """The undo log cannot be written: the change must not be made."""


@frozen
class Rollback:
    """What recovery did with a pending undo log."""

    intent: str
    root: str
    started: float
    restored: tuple[str, ...]  # files and registry values put back as they were (or removed)
    commands: tuple[str, ...]  # changing commands noted: they may have run


class UndoLog:
    """The undo log of one enforcement run. `id` is empty until the first change is noted."""

    def __init__(self, path: Path, root: str) -> None:
        self.path = Path(path)
        self.root = root
        self.id = ""
        self._data: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def remember_file(self, path: str) -> None:
        """Save `path`'s current content before it is replaced. Raises UndoError."""
        with self._lock:
            data = self._begin()
            if any(f["path"] == path for f in data["files"]):
                return
            try:
                old = read_bytes(self.root, path, MAX_UNDO_BYTES)
                st = stat_in(self.root, path) if old is not None else None
            except FileTooLarge as exc:
                raise UndoError(f"{path} is larger than {MAX_UNDO_BYTES} bytes: not changed") from exc
            except (HostwardError, OSError) as exc:
                raise UndoError(f"cannot save {path} before changing it: {exc}") from exc
            mode = st.st_mode & 0o7777 if st is not None else None
            encoded = None if old is None else base64.b64encode(old).decode("ascii")
            data["files"].append({"path": path, "old": encoded, "mode": mode})
            self._flush(data)

    def remember_registry(self, registry: Registry, key: str, name: str) -> None:
        """Save the registry value `key\\name` (or its absence) before it is set. Raises UndoError."""
        with self._lock:
            data = self._begin()
            if any(r["key"] == key and r["name"] == name for r in data["registry"]):
                return
            try:
                old = registry.get(key, name)
                created = [k for k in parents(key) if not registry.key_exists(k)]
            except HostwardError as exc:
                raise UndoError(f"cannot save {key}\\{name} before changing it: {exc}") from exc
            encoded = None if old is None else old.to_json()
            data["registry"].append({"key": key, "name": name, "old": encoded, "created_keys": created})
            self._flush(data)

    def note_command(self, name: str, check: str) -> None:
        """Note a changing command before it runs. Raises UndoError."""
        with self._lock:
            data = self._begin()
            data["commands"].append({"name": name, "check": check})
            self._flush(data)

    def commit(self) -> None:
        """The run's changes are journaled: forget the log."""
        with self._lock:
            if self._data is not None:
                discard(self.path)
            self._data, self.id = None, ""

    def _begin(self) -> dict[str, Any]:
        if self._data is None:
            self.id = uuid.uuid4().hex
            self._data = {"id": self.id, "root": self.root, "started": time.time()}
            self._data.update(files=[], commands=[], registry=[])
        return self._data

    def _flush(self, data: dict[str, Any]) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            text = json.dumps(data, sort_keys=True).encode("utf-8")
            write_atomic(self.path, text, mode=0o600)
        except (HostwardError, OSError) as exc:
            raise UndoError(f"cannot write the undo log {self.path}: {exc}") from exc


def pending(path: Path) -> dict[str, Any] | None:
    """The undo log left by an interrupted run, or None. A torn or foreign file raises UndoError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UndoError(f"cannot read the undo log {path}: {exc}") from exc
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValueError("not an undo log")
        return data
    except ValueError as exc:
        raise UndoError(f"the undo log {path} is unreadable: {exc}") from exc


def rollback(data: dict[str, Any], registry: Registry | None = None) -> Rollback:
    """Put back every file and registry value of the log, newest first (idempotent: safe to
    repeat after a crash). `registry`: the local one unless given."""
    root = str(data.get("root") or "/")
    restored = _rollback_registry(data.get("registry") or [], registry)
    for item in reversed(data.get("files", [])):
        path = str(item["path"])
        if item.get("old") is None:
            remove_file(root, path)
        else:
            mode = 0o644 if item.get("mode") is None else int(item["mode"])
            write_bytes_atomic(root, path, base64.b64decode(item["old"]), mode)
        restored.append(path)
    commands = tuple(f"{c.get('check', '')}: {c.get('name', '')}" for c in data.get("commands", []))
    return Rollback(str(data["id"]), root, float(data.get("started", 0)), tuple(restored), commands)


def _rollback_registry(items: list[dict[str, Any]], registry: Registry | None) -> list[str]:
    if not items:
        return []
    reg = registry or local_registry()
    restored = []
    for item in reversed(items):
        key, name = str(item["key"]), str(item["name"])
        if item.get("old") is None:
            reg.delete(key, name)
        else:
            reg.set(key, name, RegValue.from_json(item["old"]))
        restored.append(f"{key}\\{name}")
    for item in reversed(items):
        for created in item.get("created_keys") or []:  # deepest first
            reg.delete_key_if_empty(str(created))
    return restored


def discard(path: Path) -> None:
    try:
        Path(path).unlink()
    except FileNotFoundError:
        return
    sync_dir(Path(path).parent)


@contextmanager
def run_lock(path: Path, wait: bool) -> Iterator[bool]:
    """Hold the enforcement lock (an flock on `path`) for one run or one recovery.

    Yields False when `wait` is False and another live process holds it: its undo log is
    in use, not left by a crash, and must not be rolled back under it. The kernel releases
    the lock of a killed process. (Windows: msvcrt.locking on the file's first byte, which
    Windows also releases when the process dies.)
    """
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield filelock.lock(fd, wait=wait)
    finally:
        os.close(fd)
