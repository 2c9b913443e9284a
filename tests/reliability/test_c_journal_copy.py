"""The head's second copy in the state database (agent/journal_mirror.py): what deleting the
journal's own files can no longer hide, and what a busy or broken state database cannot stop.

- Journal deleted, head deleted, both deleted (the state's copy left), cut at a line boundary
  with the head deleted: `journal verify` says TAMPERED before the next entry and after it (the
  next entry continues from the highest head, so the gap stays in the file).
- A genuinely fresh install (no journal, no head, no copy) is intact; verify writes nothing.
- A state database that is busy or not a database never fails an append: counted, logged.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from reliability_c_kit import hostward, journal_lines, kinds

from agent import faults
from agent.journal import Journal
from agent.journal_mirror import KEY, read_only
from agent.state import State

COPY = "says the copy of the head in state.db"


def seeded(state: Path, count: int = 6) -> Journal:
    journal = Journal(state)
    for i in range(count):
        journal.append("test.seed", {"i": i, "note": "病历 ward 3"})
    return journal


def cli_verify(tmp_path: Path, state: Path) -> tuple[int, str]:
    cfg = tmp_path / "hostward.yaml"
    cfg.write_text(f"version: 1\nstate_dir: {state}\n", encoding="utf-8")
    done = hostward("journal", "verify", "-c", str(cfg))
    return done.returncode, done.stdout + done.stderr


def files(state: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(state.iterdir()) if not p.name.endswith("-shm")}


def _journal(state: Path) -> None:
    (state / "journal.jsonl").unlink()


def _head(state: Path) -> None:
    (state / "journal.head").unlink()


def _both(state: Path) -> None:
    _journal(state)
    _head(state)


def _cut_and_head(state: Path) -> None:
    path = state / "journal.jsonl"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:3]))
    _head(state)


GONE = "the journal file is missing or empty but entry 6 was written"
CASES = {  # damage: (verify before the next entry, verify after it; None: intact again)
    "journal-deleted": (_journal, f"{GONE} (", "entries 1..6 are missing"),
    "head-deleted": (_head, "journal.head is missing or unreadable", None),
    "both-deleted-state-copy-left": (_both, f"{GONE}, {COPY}", "entries 1..6 are missing"),
    "cut-at-a-line-and-head-deleted": (
        _cut_and_head,
        f"the journal ends at entry 3 but entry 6 was written, {COPY}",
        "seq 7 where 4 was expected",
    ),
}


@pytest.mark.parametrize(("damage", "before", "after"), list(CASES.values()), ids=list(CASES))
def test_deleting_the_journals_files_stays_tampered_before_and_after_the_next_entry(
    tmp_path: Path, damage: object, before: str, after: str | None
) -> None:
    state = tmp_path / "state"
    journal = seeded(state)
    assert callable(damage)
    damage(state)
    untouched = files(state)
    result = journal.verify()
    assert not result.ok and before in result.problem, result
    assert files(state) == untouched  # verify wrote nothing, the state database included
    journal.append("agent.start", {})
    result = journal.verify()
    if after is None:  # only the head was lost: rebuilt from the file, which the copy confirms
        assert result.ok and "head was lost and rebuilt from entry 6" in result.notes[0], result
        assert kinds(state)[-2:] == ["journal.head_rebuilt", "agent.start"]
    else:
        assert not result.ok and after in result.problem, result
        assert "journal.entries_missing" in kinds(state)
        assert journal_lines(state)[-1]["seq"] == 8  # the chain went on from entry 6, never from 1
    assert read_only(state) == (journal_lines(state)[-1]["seq"], journal_lines(state)[-1]["hash"])


def test_the_command_says_tampered_when_only_the_state_database_remembers(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seeded(state)
    _both(state)
    code, out = cli_verify(tmp_path, state)
    assert code == 1, out
    assert f"TAMPERED / 已被篡改: {GONE}, {COPY}" in out


def test_a_fresh_install_is_intact_and_verify_creates_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    result = Journal(state).verify()
    assert (result.ok, result.entries, result.notes) == (True, 0, ())
    assert list(state.iterdir()) == []
    State.open(state).close()  # a state database without a copy: still a fresh install
    untouched = files(state)
    code, out = cli_verify(tmp_path, state)
    assert code == 0 and "intact, 0 entries" in out, out
    assert files(state) == untouched


def test_verify_reads_the_copy_through_a_live_databases_wal(tmp_path: Path) -> None:
    state = tmp_path / "state"
    daemon = State.open(state)  # held open, as the daemon does: the copy sits in state.db-wal
    try:
        journal = seeded(state, count=3)
        assert (state / "state.db-wal").stat().st_size > 0
        assert read_only(state) == (3, journal_lines(state)[-1]["hash"])
        lines = (state / "journal.jsonl").read_bytes().splitlines(keepends=True)
        (state / "journal.jsonl").write_bytes(b"".join(lines[:2]))
        _head(state)
        result = journal.verify()
        cut = f"the journal ends at entry 2 but entry 3 was written, {COPY}"
        assert not result.ok and cut in result.problem, result
    finally:
        daemon.close()


def test_a_state_database_that_is_not_one_never_fails_an_append(tmp_path: Path) -> None:
    state = tmp_path / "state"
    journal = seeded(state, count=2)
    (state / "state.db").write_bytes(b"this is not a database " * 100)
    errors = faults.snapshot()[1].get("state_write")
    entry = journal.append("backup.run", {"status": "ok"})
    assert entry.seq == 3 and journal_lines(state)[-1]["hash"] == entry.hash
    assert faults.snapshot()[1]["state_write"].count == (errors.count if errors else 0) + 1
    result = journal.verify()  # the file's head still stands; the unreadable copy is said
    assert result.ok and result.entries == 3, result
    assert any("copy of the head in state.db cannot be read" in n for n in result.notes), result.notes


def test_a_busy_state_database_delays_an_append_at_most_briefly_and_never_fails_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    journal = seeded(state, count=2)
    other = sqlite3.connect(state / "state.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        errors = faults.snapshot()[1].get("state_write")
        entry = journal.append("backup.run", {"status": "ok"})
        assert entry.seq == 3
        assert faults.snapshot()[1]["state_write"].count == (errors.count if errors else 0) + 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert read_only(state) == (2, journal_lines(state)[1]["hash"])  # lagging by the lost write
    assert journal.verify().ok
    journal.append("backup.run", {"status": "ok"})
    assert read_only(state) == (4, journal_lines(state)[-1]["hash"])
    row = sqlite3.connect(state / "state.db").execute("SELECT COUNT(*) FROM kv WHERE key = ?", (KEY,))
    assert row.fetchone() == (1,)


def test_a_journal_rewritten_with_a_matching_head_is_caught_by_the_copy(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seeded(state)
    forged = tmp_path / "forged"
    seeded(forged)  # the same kinds and data, another chain (other times): a plausible rewrite
    for name in ("journal.jsonl", "journal.head"):
        (state / name).write_bytes((forged / name).read_bytes())
    result = Journal(state).verify()
    assert not result.ok, result
    assert result.problem == f"entry 6 differs from the one recorded in {COPY.removeprefix('says ')}"
