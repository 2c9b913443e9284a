"""The hash-chained journal (ROOM-4): intact chains verify; edits, deletions, reordering and a
cut tail are caught, by the API and by `hostward journal verify` (exit 1)."""

from __future__ import annotations

import itertools
import json
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.journal import GENESIS, Journal, entry_hash

Hostward = Callable[..., subprocess.CompletedProcess[str]]
WriteConfig = Callable[[str], Path]


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "state")
    for i in range(1, 6):
        j.append("enforce.apply", {"check": f"usb.storage_blocked.{i}", "changes": ["modprobe"], "i": i})
    return j


def lines(journal: Journal) -> list[str]:
    return journal.path.read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(journal: Journal, new: list[str]) -> None:
    journal.path.write_text("".join(new), encoding="utf-8")


def test_appended_entries_chain_and_verify(journal: Journal) -> None:
    entries = list(journal.entries())
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev == GENESIS
    assert all(b.prev == a.hash for a, b in itertools.pairwise(entries))
    assert all(entry_hash(e.body()) == e.hash for e in entries)
    assert entries[0].actor
    result = journal.verify()
    assert (result.ok, result.entries, result.problem) == (True, 5, "")
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600


def test_editing_one_byte_of_an_entry_is_detected(journal: Journal) -> None:
    text = lines(journal)
    text[2] = text[2].replace("usb.storage_blocked.3", "usb.storage_blocked.8")
    rewrite(journal, text)
    result = journal.verify()
    assert not result.ok
    assert result.entries == 2
    assert result.problem == "journal.jsonl:3: hash mismatch (entry 3 was edited)"


def test_an_edit_with_a_recomputed_hash_still_breaks_the_link_after_it(journal: Journal) -> None:
    text = lines(journal)
    item = json.loads(text[1])
    item["data"]["check"] = "forged"
    item["hash"] = entry_hash({k: item[k] for k in ("seq", "ts", "kind", "actor", "data", "prev")})
    text[1] = json.dumps(item, sort_keys=True) + "\n"
    rewrite(journal, text)
    assert journal.verify().problem == "journal.jsonl:3: does not link to the entry before"


def test_deleting_an_entry_is_detected(journal: Journal) -> None:
    text = lines(journal)
    del text[1]
    rewrite(journal, text)
    result = journal.verify()
    assert not result.ok
    assert result.problem.startswith("journal.jsonl:2: seq 3 where 2 was expected")


def test_swapping_two_entries_is_detected(journal: Journal) -> None:
    text = lines(journal)
    text[1], text[2] = text[2], text[1]
    rewrite(journal, text)
    assert journal.verify().problem.startswith("journal.jsonl:2: seq 3 where 2 was expected")


def test_cutting_entries_off_the_end_is_detected_by_the_head(journal: Journal) -> None:
    rewrite(journal, lines(journal)[:3])
    result = journal.verify()
    assert not result.ok
    assert result.problem == (
        "the journal ends at entry 3 but entry 5 was written (entries were cut off the end)"
    )


def test_appending_after_a_verify_keeps_the_chain(journal: Journal) -> None:
    assert journal.verify().ok
    entry = journal.append("backup.restore", {"snapshot": "abc123", "target": "/srv/restore"})
    assert entry.seq == 6
    assert journal.verify().entries == 6


def test_two_processes_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    state = tmp_path / "state"
    script = (
        "import sys; from pathlib import Path; from agent.journal import Journal\n"
        "j = Journal(Path(sys.argv[1]))\n"
        "for i in range(40): j.append('test.concurrent', {'writer': sys.argv[2], 'i': i})\n"
    )
    procs = [subprocess.Popen((sys.executable, "-c", script, str(state), w)) for w in ("a", "b", "c")]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    result = Journal(state).verify()
    assert (result.ok, result.entries) == (True, 120)


def test_journal_verify_exits_0_when_intact_and_1_when_tampered(
    journal: Journal, write_config: WriteConfig, hostward: Hostward
) -> None:
    path = write_config("version: 1\nstate_dir: {state}\n")
    intact = hostward("journal", "verify", "-c", str(path))
    assert intact.returncode == 0
    assert intact.stdout == f"{journal.path}: intact, 5 entries / 完整\n"
    text = lines(journal)
    rewrite(journal, text[:2] + text[3:])
    tampered = hostward("journal", "verify", "-c", str(path))
    assert tampered.returncode == 1
    assert "TAMPERED" in tampered.stderr
    assert "seq 4 where 3 was expected" in tampered.stderr
