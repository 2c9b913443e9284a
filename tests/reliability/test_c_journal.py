"""The journal keeps its entries, or keeps the proof of their loss (ROOM-4), with the real agent.

- A journal deleted, emptied or cut at a line boundary: the agent's next entries continue from
  the head kept apart (`journal.head`), so `hostward journal verify` still says TAMPERED.
- A torn tail (cut mid-line, a crash mid-write, bytes without a newline): the next start sets it
  aside to a side file, journals `journal.torn_tail_quarantined` (size, sha256); verify is intact
  again and reports it. A cut that took more than the torn entry stays TAMPERED.
- A head lost: rebuilt from the file, journaled, reported.
- `journal verify` on a read-only state directory only reads.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_c_kit import hostward, journal_lines, kinds, needs_root, readonly_bind
from testkit import AgentProcess, free_port

from agent.journal import Journal

Damage = Callable[[Path], bytes]  # damages the journal in a state dir; returns the torn bytes


def config(tmp_path: Path, state: Path) -> Path:
    path = tmp_path / "hostward.yaml"
    path.write_text(
        f"version: 1\nstate_dir: {state}\n"
        f'exporter: {{listen: "127.0.0.1:{free_port()}"}}\n'
        "collect: {schedule: {every: 1h, timeout: 30s}}\n"
        "audit: {schedule: {every: 1h, enabled: false}}\n"
        'report: {daily: {schedule: {at: "23:55", enabled: false}}}\n',
        encoding="utf-8",
    )
    return path


def seeded(state: Path, count: int = 6) -> Journal:
    journal = Journal(state)
    for i in range(count):
        journal.append("test.seed", {"i": i, "note": "病历 backup of ward 3"})
    return journal


def start_and_stop(tmp_path: Path, cfg: Path) -> str:
    agent = AgentProcess(tmp_path, cfg)
    try:
        agent.url()
    finally:
        assert agent.stop() == 0
    return agent.stderr


def verify(cfg: Path) -> tuple[int, str]:
    done = hostward("journal", "verify", "-c", str(cfg))
    return done.returncode, done.stdout + done.stderr


def _delete(state: Path) -> bytes:
    (state / "journal.jsonl").unlink()
    return b""


def _empty(state: Path) -> bytes:
    (state / "journal.jsonl").write_bytes(b"")
    return b""


def _cut_whole_lines(state: Path) -> bytes:
    path = state / "journal.jsonl"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:3]))
    return b""


@pytest.mark.parametrize(
    "damage", [_delete, _empty, _cut_whole_lines], ids=["deleted", "emptied", "cut-at-a-line"]
)
def test_a_journal_deleted_or_shortened_stays_tampered_after_the_agent_starts_and_stops(
    tmp_path: Path, damage: Damage
) -> None:
    state = tmp_path / "state"
    seeded(state)
    cfg = config(tmp_path, state)
    damage(state)
    start_and_stop(tmp_path, cfg)
    code, out = verify(cfg)
    assert code == 1, out
    assert "TAMPERED" in out and ("missing" in out or "was expected" in out), out
    items = journal_lines(state)  # every line whole: nothing glued
    assert [i["kind"] for i in items if i["kind"].startswith("agent.")] == ["agent.start", "agent.stop"]
    assert "journal.entries_missing" in kinds(state)
    assert items[-1]["seq"] > 6  # the chain went on from the head, never started over at 1


def _cut_mid_last_line(state: Path) -> bytes:
    path = state / "journal.jsonl"
    raw = path.read_bytes()
    cut = len(raw) - 40
    path.write_bytes(raw[:cut])
    return raw[raw.rfind(b"\n", 0, len(raw) - 1) + 1:cut]


def _crash_mid_write(state: Path) -> bytes:
    torn = b'{"actor": "root", "data": {"i": 99}, "hash": "3f'  # a write cut by a power loss
    with open(state / "journal.jsonl", "ab") as fh:
        fh.write(torn)
    return torn


def _garbage_tail(state: Path) -> bytes:
    torn = "\x00\x00垃圾\x1b[31m".encode()
    with open(state / "journal.jsonl", "ab") as fh:
        fh.write(torn)
    return torn


@pytest.mark.parametrize(
    "damage", [_cut_mid_last_line, _crash_mid_write, _garbage_tail],
    ids=["cut-mid-line", "crash-mid-write", "garbage"],
)
def test_a_torn_tail_is_set_aside_journaled_and_then_verify_is_intact_again(
    tmp_path: Path, damage: Damage
) -> None:
    state = tmp_path / "state"
    seeded(state)
    cfg = config(tmp_path, state)
    torn = damage(state)
    code, out = verify(cfg)
    assert code == 1 and "torn last line" in out, out
    log = start_and_stop(tmp_path, cfg)
    items = journal_lines(state)  # the next entry was not glued onto the fragment
    [mark] = [i for i in items if i["kind"] == "journal.torn_tail_quarantined"]
    assert mark["data"]["size"] == len(torn)
    assert mark["data"]["sha256"] == hashlib.sha256(torn).hexdigest()
    assert (state / mark["data"]["file"]).read_bytes() == torn  # kept as evidence
    assert "torn tail" in log
    code, out = verify(cfg)
    assert code == 0, out
    assert "intact" in out and mark["data"]["file"] in out and "torn tail" in out
    # only a cut into the last written entry loses it; a write cut by a crash was never an entry
    assert ("it held entry 6" in out) is (damage is _cut_mid_last_line), out


def test_a_cut_that_took_more_than_the_torn_entry_stays_tampered(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seeded(state)
    cfg = config(tmp_path, state)
    path = state / "journal.jsonl"
    raw = path.read_bytes()
    third = [i for i, b in enumerate(raw) if b == ord("\n")][2]
    path.write_bytes(raw[:third + 50])  # into entry 4 of 6: entries 5 and 6 are gone too
    start_and_stop(tmp_path, cfg)
    code, out = verify(cfg)
    assert code == 1, out
    assert "journal.torn_tail_quarantined" in kinds(state)


def test_a_lost_head_is_rebuilt_journaled_and_reported(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seeded(state)
    cfg = config(tmp_path, state)
    (state / "journal.head").unlink()
    code, out = verify(cfg)
    assert code == 1 and "journal.head is missing" in out, out
    start_and_stop(tmp_path, cfg)
    assert "journal.head_rebuilt" in kinds(state)
    code, out = verify(cfg)
    assert code == 0 and "head was lost and rebuilt from entry 6" in out, out


@needs_root
@pytest.mark.parametrize("lock_file", [True, False], ids=["with-lock-file", "without-lock-file"])
def test_verify_on_a_read_only_state_directory_only_reads(tmp_path: Path, lock_file: bool) -> None:
    state = tmp_path / "state"
    seeded(state)
    if not lock_file:
        (state / "journal.lock").unlink()
    before = sorted(p.name for p in state.iterdir())
    with readonly_bind(state, tmp_path / "ro") as ro:
        cfg = config(tmp_path, ro)
        code, out = verify(cfg)
        assert (code, out.strip()) == (0, f"{ro / 'journal.jsonl'}: intact, 6 entries / 完整"), out
        # a tampered journal on a read-only copy: TAMPERED for the real reason, not "cannot read"
        lines = (state / "journal.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        item = json.loads(lines[2])
        item["data"]["i"] = 42
        (state / "journal.jsonl").write_text(
            "".join([*lines[:2], json.dumps(item, sort_keys=True, ensure_ascii=False) + "\n", *lines[3:]]),
            encoding="utf-8")
        code, out = verify(cfg)
        assert code == 1 and "journal.jsonl:3: hash mismatch" in out, out
    assert sorted(p.name for p in state.iterdir()) == before


@needs_root
def test_verify_as_a_user_who_may_only_read_the_directory() -> None:
    # Outside pytest's 0700 temp root, so that uid 65534 can reach it.
    base = Path(tempfile.mkdtemp(prefix="hostward-ro-"))
    try:
        state = base / "state"
        seeded(state)
        base.chmod(0o755)
        state.chmod(0o755)  # readable by others, writable by root only; the files 0644
        for p in state.iterdir():
            p.chmod(0o644)
        cfg = config(base, state)
        cfg.chmod(0o644)
        before = sorted(p.name for p in state.iterdir())
        done = hostward("journal", "verify", "-c", str(cfg), user="65534")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "intact, 6 entries" in done.stdout
        assert sorted(p.name for p in state.iterdir()) == before
    finally:
        shutil.rmtree(base)


def test_readers_of_the_entries_skip_a_torn_line_instead_of_failing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    journal = seeded(state, count=3)
    _crash_mid_write(state)
    assert [e.seq for e in journal.entries()] == [1, 2, 3]
