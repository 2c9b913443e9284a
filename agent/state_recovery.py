"""A damaged state database is set aside, never fatal: the agent (and its backups) keep running.

`state.db` that is not a database (garbage bytes), truncated or malformed is renamed to
`state.db.damaged-<UTC time>` with its `-wal` and `-shm` as they were before the open attempt
(`keep_sidecars`: SQLite deletes them when it gives up), kept as evidence, and a fresh
database is started. The recovery is logged, journaled (`state.recovered`) and stored in the
fresh database (record `state.recovered`: `hostward_state_recovered_timestamp_seconds`). A
database that merely cannot be opened (permissions, a full disk, a lock) is not touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from agent.records.watchdog import StateRecoveredRecord
from common.errors import HostwardError
from common.frozen import frozen

if TYPE_CHECKING:
    from agent.state import State

log = logging.getLogger(__name__)
RECORD_KIND = StateRecoveredRecord.KIND
_DAMAGE_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_DAMAGE_WORDS = ("not a database", "malformed", "corrupt")


class Damaged(HostwardError):
    """The state database is not an intact SQLite database."""


@frozen
class SetAside:
    """Where the damaged files went, when, and why."""

    path: Path
    when: float
    reason: str
    files: tuple[str, ...]


def is_damage(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return int(code) & 0xFF in _DAMAGE_CODES
    return any(word in str(exc).lower() for word in _DAMAGE_WORDS)


def keep_sidecars(path: Path) -> dict[str, Path]:
    """Before opening: keep the -wal/-shm as they are (SQLite removes or rewrites them when a
    damaged database is closed). The -wal by a hard link (free), else a copy; {suffix: kept}."""
    kept = {}
    for suffix in ("-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if not source.exists():
            continue
        copy = path.with_name(f"{path.name}{suffix}.pre-open")
        try:
            copy.unlink(missing_ok=True)
            if suffix == "-wal":
                try:
                    os.link(source, copy)
                except OSError:  # no hard links here (FAT): a copy
                    _copy(source, copy)
            else:
                _copy(source, copy)
        except OSError as exc:
            log.warning("cannot keep %s before opening the state database: %s", source.name, exc)
            continue
        kept[suffix] = copy
    return kept


def _copy(source: Path, target: Path) -> None:
    """shutil.copyfile without shutil, which loads bz2 and lzma (0.4 MiB) into the daemon."""
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(1 << 20):
            out.write(chunk)


def drop(kept: dict[str, Path]) -> None:
    """The database opened fine: the kept -wal/-shm are not needed."""
    for copy in kept.values():
        with contextlib.suppress(OSError):
            copy.unlink()


def set_aside(path: Path, damage: Damaged, kept: dict[str, Path]) -> SetAside:
    """Rename the damaged database and its -wal/-shm as they were before the open attempt;
    raise StateError if that fails."""
    from agent.records.base import StateError

    when = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    moved = []
    try:
        for suffix in ("", "-wal", "-shm"):
            source = path.with_name(path.name + suffix)
            if suffix in kept:
                source.unlink(missing_ok=True)  # what SQLite left of it
                source = kept[suffix]
            if source.exists():
                source.replace(target.with_name(target.name + suffix))
                moved.append(target.name + suffix)
    except OSError as exc:
        raise StateError(
            f"state database {path} is damaged ({damage}) and cannot be set aside: {exc}"
        ) from exc
    log.error(
        "state database %s is damaged (%s): set aside as %s; starting a fresh one "
        "(job history and baselines start over; backups keep running)",
        path, damage, target.name)
    return SetAside(target, when, str(damage), tuple(moved))


def announce(state: State, state_dir: Path, aside: SetAside) -> None:
    """Record the recovery in the fresh database (for /metrics) and in the journal."""
    data = {"time": aside.when, "damaged": aside.path.name, "files": list(aside.files),
            "reason": aside.reason}
    try:
        state.put_record(
            StateRecoveredRecord(aside.when, aside.path.name, aside.files, aside.reason), taken=aside.when
        )
    except HostwardError as exc:
        log.error("cannot store the state recovery: %s", exc)
    try:
        from agent.journal import Journal

        Journal(state_dir).append("state.recovered", data)
    except HostwardError as exc:
        log.error("cannot write the journal: %s", exc)
