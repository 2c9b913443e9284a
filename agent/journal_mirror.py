"""A second copy of the journal's head, kept in the state database (`state.db`, kv row
`journal.head`), away from the journal's own files.

`journal.head` sits next to `journal.jsonl`: deleting both looked like a fresh install, and
deleting the head then cutting the journal at a line boundary looked like a lost head. The copy
is written after every entry (one small UPSERT) and read back by the next append (which
continues the chain from the highest head it knows) and by `journal verify` (a journal shorter
than either head, or missing while a head exists, is TAMPERED).

Best effort: the state database may be busy, full or damaged. An entry is never refused because
its copy could not be written; the failure is counted (`hostward_state_write_errors_total`) and
logged, and the copy then lags, which only weakens the check (a lagging copy is never TAMPERED).

Reading for `verify` writes nothing: a database in use (its -wal and -shm present) is opened
read-only and reads the -wal through them; otherwise it is opened `immutable`, so that no
-wal or -shm file is created next to it (a read-only copy, an auditor's USB stick).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from pathlib import Path

from agent import faults
from agent.state import DB_FILE, connect
from collectors.errors import HostwardError

log = logging.getLogger(__name__)
KEY = "journal.head"
NAME = f"the copy of the head in {DB_FILE}"
TIMEOUT = 2.0  # seconds an append waits for a busy state database before giving the copy up
_UPSERT = (
    "INSERT INTO kv (key, value, updated) VALUES (?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated"
)

Head = tuple[int, str]


class CopyUnreadable(HostwardError):
    """The state database holds no readable copy of the head (busy, damaged)."""


def _parse(row: tuple[str] | None) -> Head | None:
    if row is None:
        return None
    try:
        item = json.loads(row[0])
        return int(item["seq"]), str(item["hash"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CopyUnreadable(f"{NAME} is not a head: {exc}") from exc


class HeadCopy:
    """The copy, for one append (one connection, opened when first needed, closed by `close`)."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir)
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            if not (self.dir / DB_FILE).exists():
                conn = connect(self.dir)  # a new database, with its schema, as State makes it
            else:
                conn = sqlite3.connect(self.dir / DB_FILE, timeout=TIMEOUT, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout={int(TIMEOUT * 1000)}")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = conn
        return self._conn

    def read(self) -> Head | None:
        """The copy, or None when there is none or it cannot be read now (the append goes on)."""
        try:
            return _parse(self._open().execute("SELECT value FROM kv WHERE key = ?", (KEY,)).fetchone())
        except (sqlite3.Error, OSError, HostwardError) as exc:
            log.warning("journal: %s cannot be read: %s", NAME, exc)
            return None

    def write(self, seq: int, digest: str) -> None:
        """Replace the copy; a failure is counted and logged, never raised."""
        value = json.dumps({"seq": seq, "hash": digest})
        try:
            conn = self._open()
            with conn:
                conn.execute(_UPSERT, (KEY, value, time.time()))
        except (sqlite3.Error, OSError, HostwardError) as exc:
            fault = faults.note("state_write", f"{NAME}: {exc}")
            log.warning("journal: entry %d was written but %s could not be updated: %s "
                        "(state write error %d)", seq, NAME, exc, fault.count)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None


def read_only(state_dir: Path) -> Head | None:
    """The copy for `journal verify`, opened so that nothing is written; None when there is no
    state database or no copy in it; CopyUnreadable when it cannot be read."""
    path = Path(state_dir) / DB_FILE
    if not path.exists():
        return None
    live = all(path.with_name(path.name + end).exists() for end in ("-wal", "-shm"))
    uri = f"{path.resolve().as_uri()}?mode=ro{'' if live else '&immutable=1'}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=TIMEOUT)
    except sqlite3.Error as exc:
        raise CopyUnreadable(f"{NAME} cannot be read: {exc}") from exc
    try:
        tables = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv'").fetchone()
        if tables is None:
            return None
        return _parse(conn.execute("SELECT value FROM kv WHERE key = ?", (KEY,)).fetchone())
    except sqlite3.Error as exc:
        raise CopyUnreadable(f"{NAME} cannot be read: {exc}") from exc
    finally:
        conn.close()
