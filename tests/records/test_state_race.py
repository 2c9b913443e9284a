"""Two processes update the same record at the same moment (a CLI `backup verify` next to the
daemon's prune): with State.put_record's BEGIN IMMEDIATE nothing is lost, 50 rounds out of 50.
The same race without the transaction loses an update every round (the check can fail)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from race_kit import seed, writer

from agent.records.backup import BackupRecord
from agent.state import State

ROUNDS = 50


def race(state_dir: Path, rounds: int, naive: bool = False) -> list[tuple[int, float, float]]:
    """Run the two writers; after each round, (round, check time, prune time) as stored."""
    seed(state_dir)
    spawn = multiprocessing.get_context("spawn")
    start, done = spawn.Barrier(3, timeout=60), spawn.Barrier(3, timeout=60)
    procs = [spawn.Process(target=writer, args=(role, state_dir, rounds, start, done, naive))
             for role in ("verify", "prune")]  # fmt: skip
    for p in procs:
        p.start()
    state = State.open(state_dir)
    seen = []
    try:
        for i in range(rounds):
            start.wait()
            if naive:
                start.wait()
            done.wait()
            stored = state.record(BackupRecord)
            assert stored is not None
            primary = stored.record.repositories["primary"]
            assert primary.check is not None and primary.prune is not None
            seen.append((i, primary.check.time, primary.prune.time))
    finally:
        state.close()
        for p in procs:
            p.join(60)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0, 0]
    return seen


def test_the_cli_and_the_daemon_updating_one_record_lose_nothing_in_50_races(tmp_path: Path) -> None:
    seen = race(tmp_path, ROUNDS)
    lost = [(i, check, prune) for i, check, prune in seen if (check, prune) != (i, i)]
    assert len(seen) == ROUNDS and lost == []


def test_without_the_transaction_the_same_race_loses_an_update_every_round(tmp_path: Path) -> None:
    seen = race(tmp_path, 5, naive=True)
    assert all((check, prune) != (i, i) for i, check, prune in seen)
