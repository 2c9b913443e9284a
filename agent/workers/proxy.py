"""The state as a worker sees it: reads from the database, writes through the daemon.

`WorkerState` is a `State` on a read-only SQLite connection. Its write methods (`WRITES`) do
not touch the file: each is sent to the daemon, which calls the same method on its own State
and answers with the return value, or with the StateError it raised (raised here again, so an
action sees a full disk exactly as it did in the daemon). The daemon commits before it answers,
so a read after a write sees it (read-your-writes, e.g. backup's read-modify-write of its record).

Any other write path of State ends in `_write`, which refuses here: a write method added to
State later fails loudly in a worker until it is named in `WRITES`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.records.base import KeyUpdate, R, RecordUpdate
from agent.state import DB_FILE, JobRun, State, StateError

# State methods a worker forwards to the daemon (the daemon refuses any other name).
WRITES = frozenset({"put_record", "update_record", "update", "put", "record_run"})

Call = Callable[[str, tuple[Any, ...], dict[str, Any]], Any]


class WorkerState(State):
    """A State whose writes are calls to the daemon (`call(method, args, kwargs)`)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, max_runs_per_job: int, call: Call) -> None:
        self._call = call
        super().__init__(conn, path, max_runs_per_job)

    @classmethod
    def open_reader(cls, state_dir: Path, max_runs_per_job: int, call: Call) -> WorkerState:
        """Open the daemon's database read-only; StateError if it cannot be read."""
        path = state_dir / DB_FILE
        try:
            conn = sqlite3.connect(
                path.resolve().as_uri() + "?mode=ro",
                uri=True,
                timeout=10,
                check_same_thread=False,
                isolation_level=None,
            )
            conn.execute("PRAGMA busy_timeout=10000")
            return cls(conn, path, max_runs_per_job, call)
        except sqlite3.Error as exc:
            raise StateError(f"cannot read state database {path}: {exc}") from exc

    def put_record(self, item: R | RecordUpdate[R], taken: float | None = None) -> R:
        """A typed record, or an update the daemon applies in its transaction (it is pickled:
        an update that carries a function, as the trap receiver's do, stays in the daemon)."""
        found: R = self._call("put_record", (item,), {"taken": taken})
        return found

    def update_record(self, update: RecordUpdate[R], taken: float | None = None) -> tuple[R | None, R]:
        """Applied by the daemon in its transaction; (the record before, the record stored)."""
        found: tuple[R | None, R] = self._call("update_record", (update,), {"taken": taken})
        return found

    def update(self, update: KeyUpdate) -> tuple[Any, Any]:
        """A key/value entry's update, applied by the daemon in its transaction; (before, after)."""
        found: tuple[Any, Any] = self._call("update", (update,), {})
        return found

    def put(self, key: str, value: Any) -> None:
        self._call("put", (key, value), {})

    def record_run(self, job: str, started: float, duration: float, success: bool, error: str = "") -> JobRun:
        found = self._call("record_run", (job, started, duration, success, error), {})
        assert isinstance(found, JobRun)
        return found

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        raise StateError("a worker does not write the state itself: this write is not sent to the daemon")
