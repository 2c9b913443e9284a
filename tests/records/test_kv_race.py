"""The key/value entries several processes read, change and write back (the outage book, the
on-battery flags, the USB storage history) race the daemon against a second process, 50 rounds:
every change of both is still there after each round.

- a trap (the daemon's receiver) opens or closes an outage of sw-a's link while a devices round
  (a worker or `hostward devices poll`) polls ups-b and books its outage;
- two processes (the audit next to the usb_watch job) each add a USB stick a round.

Before these entries were updated in one transaction (State.update_record / State.update,
BEGIN IMMEDIATE), the round wrote back the book it had read and the trap's change was lost in
most rounds."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kv_race_kit import LINK, round_writer, trap_writer, usb_writer

from agent.actions.audit import USB_KEY
from agent.records.devices import DevicesRecord
from agent.state import State

ROUNDS = 50


def race(state_dir: Path, writers: list[tuple[Callable[..., None], tuple[Any, ...]]],
         check: Callable[[State, int], None]) -> None:  # fmt: skip
    """Start the writers; after every round (all writers done), `check(state, round)`."""
    State.open(state_dir).close()
    spawn = multiprocessing.get_context("spawn")
    count = len(writers) + 1
    start, done = spawn.Barrier(count, timeout=60), spawn.Barrier(count, timeout=60)
    procs = [spawn.Process(target=target, args=(*args, state_dir, ROUNDS, start, done))
             for target, args in writers]  # fmt: skip
    for p in procs:
        p.start()
    state = State.open(state_dir)
    try:
        for i in range(ROUNDS):
            start.wait()
            done.wait()
            check(state, i)
    finally:
        state.close()
        for p in procs:
            p.join(60)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0] * len(procs)


def test_a_trap_and_a_devices_round_in_two_processes_lose_no_outage_in_50_races(tmp_path: Path) -> None:
    lost: list[tuple[int, str]] = []

    def check(state: State, i: int) -> None:
        stored = state.record(DevicesRecord)
        assert stored is not None
        book = stored.record.outages
        open_targets = {o.target for o in book.open}
        links_closed = [h for h in book.history if h.target == LINK]
        if book.totals.get(LINK) != i // 2 + 1:
            lost.append((i, f"{LINK} opened {book.totals.get(LINK)} times"))
        if (LINK in open_targets) != (i % 2 == 0) or len(links_closed) != (i + 1) // 2:
            lost.append((i, f"{LINK} open: {LINK in open_targets}, closed {len(links_closed)} times"))
        if "ups-b" not in open_targets or book.totals.get("ups-b") != 1:
            lost.append((i, f"ups-b open: {'ups-b' in open_targets}, opened {book.totals.get('ups-b')}"))
        if [d.name for d in stored.record.devices] != ["ups-b"]:
            lost.append((i, f"devices {[d.name for d in stored.record.devices]}"))

    race(tmp_path / "state", [(trap_writer, ()), (round_writer, ())], check)
    assert lost == []


def test_two_processes_adding_usb_sticks_to_the_history_lose_none_in_50_races(tmp_path: Path) -> None:
    missing: list[tuple[int, list[str]]] = []

    def check(state: State, i: int) -> None:
        seen = state.get(USB_KEY) or {}
        wanted = [f"{who}|stick|{n}" for who in ("audit", "watch") for n in range(i + 1)]
        gone = [key for key in wanted if key not in seen]
        if gone:
            missing.append((i, gone))

    race(tmp_path / "state", [(usb_writer, ("audit",)), (usb_writer, ("watch",))], check)
    assert missing == []
