"""Two writer processes for the race test (test_state_race.py): one stores `restic check`
results (as `hostward backup verify` does), the other prune results (as the daemon's prune job
does), both into the "backup" record of one state directory, round after round, started
together at a barrier. Spawned (no fork), so it runs as it would on Windows."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agent.records.backup import BackupRecord, RepoCheck, RepoPrune
from agent.records.backup_updates import PruneUpdate, VerifyUpdate
from agent.state import State
from backup.model import CheckResult
from backup.results import PruneResult, VerifyResult

PAUSE = 0.005  # between reading the record and writing it back: widens the race window


@dataclass(frozen=True)
class SlowVerify(VerifyUpdate):
    def apply(self, current: BackupRecord | None) -> BackupRecord:
        time.sleep(PAUSE)
        return super().apply(current)


@dataclass(frozen=True)
class SlowPrune(PruneUpdate):
    def apply(self, current: BackupRecord | None) -> BackupRecord:
        time.sleep(PAUSE)
        return super().apply(current)


def writer(role: str, state_dir: Path, rounds: int, start: Any, done: Any, naive: bool = False) -> None:
    """Round i: store check time i (role "verify") or prune time i (role "prune").

    `naive` reads the record, waits for the other writer to have read it too, then writes the
    whole record back: the read-modify-write without a transaction that loses an update."""
    state = State.open(state_dir)
    for i in range(rounds):
        start.wait()
        if role == "verify":
            update: SlowVerify | SlowPrune = SlowVerify(
                VerifyResult((CheckResult("primary", True, "1/30", 0.1),), {}), float(i))
        else:
            update = SlowPrune((PruneResult("primary", "ok", removed=i),), float(i))
        if naive:
            stored = state.record(BackupRecord)
            new = update.apply(stored.record if stored is not None else None)
            start.wait()  # both have read
            state.put_record(new)
        else:
            state.put_record(update)
        done.wait()
    state.close()


def seed(state_dir: Path) -> None:
    state = State.open(state_dir)
    entry = replace(BackupRecord().repository("primary"), check=RepoCheck(-1.0, True),
                    prune=RepoPrune(-1.0, "ok"))  # fmt: skip
    state.put_record(BackupRecord({"primary": entry}))
    state.close()
