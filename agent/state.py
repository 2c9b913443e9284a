"""The agent's state: one SQLite database (WAL) in the state directory.

It holds job runs (bounded history), the latest record of each kind (host health, audit,
backups, devices, ...: typed, versioned records of agent/records/) and small key/value state
(baselines, rotation offsets). Every write is one transaction, so a `kill -9` loses at most the
write in flight and never corrupts the file. `put_record` is the one write of records: a whole
record, or an update applied to the stored one inside `BEGIN IMMEDIATE` (a CLI command and the
daemon updating the same record wait for each other, up to the busy timeout, and lose nothing).
`update_record` is the same and also returns the record the update was applied to; `update` does
it for a key/value entry (a `KeyUpdate`). `put` overwrites an entry: only for an entry that has a
single writer, or whose writers hold a lock of their own (each caller says which).

Readers on the scrape path call `snapshot()`, which serves from memory and reloads only when
another process (a CLI command next to the daemon) has committed since: a scrape never waits
on the disk in the common case.

Faults (agent/state_recovery.py for the second):
- a write that fails (a full disk) raises StateError and is counted on /metrics
  (`hostward_state_write_errors_total`); a job run that cannot be recorded is shown failed
  ("the state could not be written: ...") from memory until a later run is written;
- a damaged database (not a database, truncated, malformed) is set aside as
  `state.db.damaged-<time>` (with its -wal/-shm) and a fresh one started: logged, journaled
  (`state.recovered`) and shown as `hostward_state_recovered_timestamp_seconds`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from agent import faults
from agent.records.base import KeyUpdate, RecordUpdate, StateRecord
from agent.records.base import StateError as StateError  # the state's error, where it always was
from agent.snapshot import JobRun as JobRun  # what readers see, importable from here as before
from agent.snapshot import JobStatus as JobStatus
from agent.snapshot import Record as Record
from agent.snapshot import Snapshot as Snapshot
from agent.snapshot import Stored as Stored

R = TypeVar("R", bound=StateRecord)
log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started REAL NOT NULL,
    duration REAL NOT NULL,
    success INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS job_runs_by_job ON job_runs (job, id);
CREATE TABLE IF NOT EXISTS records (kind TEXT PRIMARY KEY, taken REAL NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated REAL NOT NULL);
"""


DB_FILE = "state.db"


def connect(state_dir: Path) -> sqlite3.Connection:
    """Open (create) `state.db` in `state_dir` and check it. Raises state_recovery.Damaged for
    a file that is not an intact database, StateError for anything else."""
    from agent.state_recovery import Damaged, is_damage

    path = state_dir / DB_FILE
    conn: sqlite3.Connection | None = None
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        os.chmod(path, 0o600)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        with conn:
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
    except (OSError, sqlite3.Error) as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, sqlite3.Error) and is_damage(exc):
            raise Damaged(str(exc)) from exc
        raise StateError(f"cannot open state database in {state_dir}: {exc}") from exc
    if check != "ok":
        conn.close()
        raise Damaged(str(check))
    return conn


class State:
    """Thread-safe; one connection per process. Open with `State.open(state_dir)`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, max_runs_per_job: int) -> None:
        self._conn = conn
        self.path = path
        self._max_runs = max_runs_per_job
        self._lock = threading.RLock()
        self._data_version = -1
        self._version = 0
        self._snapshot = Snapshot(0)
        self._inserts = 0
        self._unsaved: dict[str, JobRun] = {}  # runs that could not be written, shown from memory
        self._reload()

    @classmethod
    def open(cls, state_dir: Path, max_runs_per_job: int = 2000) -> State:
        """Create the directory (0700) and database if needed; a damaged database is set aside
        and a fresh one started (agent/state_recovery.py); raise StateError if impossible."""
        from agent import state_recovery

        kept = state_recovery.keep_sidecars(state_dir / DB_FILE)
        try:
            conn = connect(state_dir)
        except state_recovery.Damaged as exc:
            aside = state_recovery.set_aside(state_dir / DB_FILE, exc, kept)
        except BaseException:
            state_recovery.drop(kept)
            raise
        else:
            state_recovery.drop(kept)
            return cls(conn, state_dir / DB_FILE, max_runs_per_job)
        state = cls(connect(state_dir), state_dir / DB_FILE, max_runs_per_job)
        state_recovery.announce(state, state_dir, aside)
        return state

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- job runs ---------------------------------------------------------------------------

    def record_run(self, job: str, started: float, duration: float, success: bool, error: str = "") -> JobRun:
        """Append a finished run; returns it with its attempt number."""
        with self._lock:
            previous = self._snapshot.jobs.get(job)
            attempt = 1 if previous is None or previous.last.success else previous.last.attempt + 1
            run = JobRun(job, attempt, started, duration, success, error[:2000])
            try:
                self._write(
                    "INSERT INTO job_runs (job, attempt, started, duration, success, error) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (job, attempt, started, duration, int(success), run.error),
                )
            except StateError as exc:  # shown failed from memory: never a frozen success
                why = f"the state could not be written: {exc}"
                why += f"; the run itself: {error}" if error else ""
                self._unsaved[job] = JobRun(job, attempt, started, duration, False, why[:2000])
                self._reload()
                raise
            self._unsaved.pop(job, None)
            self._inserts += 1
            if self._inserts % 50 == 1:
                self._prune(job)
            self._reload()
            return run

    def runs(self, job: str, limit: int = 100) -> list[JobRun]:
        """The newest `limit` runs of `job`, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT job, attempt, started, duration, success, error FROM job_runs "
                "WHERE job = ? ORDER BY id DESC LIMIT ?",
                (job, limit),
            ).fetchall()
        return [JobRun(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    def _prune(self, job: str) -> None:
        self._write(
            "DELETE FROM job_runs WHERE job = ? AND id <= "
            "(SELECT id FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (job, job, self._max_runs),
        )

    # -- latest records ---------------------------------------------------------------------

    def put_record(self, item: R | RecordUpdate[R], taken: float | None = None) -> R:
        """THE write of records: store a typed record (replacing the latest of its kind), or
        apply an update to the stored one inside one `BEGIN IMMEDIATE` transaction (another
        process writing the same kind waits, up to the busy timeout, and is never lost).
        Returns the record as stored."""
        if isinstance(item, RecordUpdate):
            return self.update_record(item, taken)[1]
        when = time.time() if taken is None else taken
        with self._lock:
            try:
                self._conn.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                                   (item.KIND, when, _text(item)))  # fmt: skip
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
            finally:
                self._reload()
        return item

    def update_record(self, update: RecordUpdate[R], taken: float | None = None) -> tuple[R | None, R]:
        """`put_record(update)`, returning (the record it was applied to, the record stored): what
        changed, as the transaction saw it (None before: there was none, or it was malformed)."""
        when = time.time() if taken is None else taken
        record_type = update.record_type()
        with self._lock:
            try:
                with self._immediate() as conn:
                    row = conn.execute("SELECT payload FROM records WHERE kind = ?",
                                       (record_type.KIND,)).fetchone()  # fmt: skip
                    current = _current(conn, record_type, row[0]) if row is not None else None
                    record = update.apply(current)
                    conn.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                                 (record.KIND, when, _text(record)))  # fmt: skip
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
            finally:
                self._reload()
        return current, record

    def update(self, update: KeyUpdate) -> tuple[Any, Any]:
        """Apply `update` to its key/value entry inside one `BEGIN IMMEDIATE` transaction (the
        read-modify-write of an entry several processes change: none loses another's change).
        Returns (the value before, None if none; the value after). An unchanged value is not
        written."""
        key = update.key()
        with self._lock:
            try:
                with self._immediate() as conn:
                    row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
                    before = _value(conn, key, row[0]) if row is not None else None
                    after = update.apply(before)
                    if after != before or row is None:
                        text = json.dumps(after, ensure_ascii=False)
                        conn.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (key, text, time.time()))
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
        return before, after

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """One `BEGIN IMMEDIATE` transaction: committed at the end, rolled back on any error."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def record(self, record_type: type[R]) -> Stored[R] | None:
        """The latest record of `record_type` (see Snapshot.get)."""
        return self.snapshot().get(record_type)

    # -- key/value --------------------------------------------------------------------------

    def put(self, key: str, value: Any) -> None:
        """Store a small JSON value (baselines, rotation offsets, drill bookkeeping)."""
        text = json.dumps(value, ensure_ascii=False)
        with self._lock:
            self._write("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (key, text, time.time()))

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    # -- snapshot ---------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The latest jobs and records, from memory unless another process wrote since."""
        with self._lock:
            if self._conn.execute("PRAGMA data_version").fetchone()[0] != self._data_version:
                self._reload()
            return self._snapshot

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        try:
            with self._conn:
                self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: sqlite3.Error) -> StateError:
        fault = faults.note("state_write", str(exc))
        return StateError(f"cannot write state database {self.path}: {exc} (state write error {fault.count})")

    def _reload(self) -> None:
        conn = self._conn
        self._data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        jobs: dict[str, JobStatus] = {}
        rows = conn.execute(
            "SELECT r.job, r.attempt, r.started, r.duration, r.success, r.error, "
            # the newest success written, not the largest time: after a clock set back (a run
            # stamped 2038), the next real success replaces it
            "(SELECT started + duration FROM job_runs s WHERE s.job = r.job AND s.success "
            "ORDER BY s.id DESC LIMIT 1), "
            "(SELECT COUNT(*) FROM job_runs c WHERE c.job = r.job) "
            "FROM job_runs r WHERE r.id IN (SELECT MAX(id) FROM job_runs GROUP BY job)"
        ).fetchall()
        for job, attempt, started, duration, success, error, last_ok, count in rows:
            jobs[job] = JobStatus(
                JobRun(job, attempt, started, duration, bool(success), error), last_ok, count
            )
        for job, unsaved in self._unsaved.items():
            known = jobs.get(job)
            jobs[job] = JobStatus(unsaved, known.last_success if known else None, known.runs if known else 0)
        rows = conn.execute("SELECT kind, taken, payload FROM records").fetchall()
        self._version += 1
        self._snapshot = self._snapshot.after(self._version, jobs, rows)


def _current(conn: sqlite3.Connection, record_type: type[R], text: str) -> R | None:
    """The stored record an update applies to. One that does not read as its type is kept aside
    (key/value `record.malformed.<kind>`, with why) and the update starts afresh: a damaged
    record must not block every later figure, nor be overwritten unseen."""
    try:
        return record_type.from_json(json.loads(text))
    except (StateError, ValueError) as exc:
        why = str(exc)
    log.error("%s: kept aside as record.malformed.%s; the record starts afresh", why, record_type.KIND)
    aside = json.dumps({"payload": text, "error": why}, ensure_ascii=False)
    conn.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (f"record.malformed.{record_type.KIND}",
                                                                 aside, time.time()))  # fmt: skip
    return None


def _value(conn: sqlite3.Connection, key: str, text: str) -> Any:
    """The stored value an update applies to; one that is not JSON is kept aside (key/value
    `kv.malformed.<key>`) and the update starts from None, as a damaged record does."""
    try:
        return json.loads(text)
    except ValueError as exc:
        why = str(exc)
    log.error("key/value %s is not JSON (%s): kept aside as kv.malformed.%s", key, why, key)
    aside = json.dumps({"value": text, "error": why}, ensure_ascii=False)
    conn.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?)", (f"kv.malformed.{key}", aside, time.time()))
    return None


def _text(record: StateRecord) -> str:
    # imported at the first write: a reader (the journal's copy of its head) loads no record type
    from agent.records.kinds import KINDS

    if KINDS.get(record.KIND, type(record)) is not type(record):
        raise StateError(f"record kind {record.KIND!r} belongs to {KINDS[record.KIND].__name__}")
    return json.dumps(record.to_json(), ensure_ascii=False, separators=(",", ":"))
