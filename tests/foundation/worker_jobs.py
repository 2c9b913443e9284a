"""Job actions for tests/foundation/test_workers.py, imported by the worker process by name
("worker_jobs:hang"): a worker never shares memory with the test."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from agent.actions.base import JobContext, JobOutcome
from agent.records.base import start
from agent.records.devices_updates import DevicesRoundUpdate
from agent.records.key_updates import MergeMapping


@dataclass(frozen=True)
class NoteRecord:
    """A typed record of the tests' own (pickled from the worker to the daemon and back)."""

    KIND: ClassVar[str] = "note"
    VERSION: ClassVar[int] = 1

    pid: int
    read_back: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"version": self.VERSION, "pid": self.pid, "read_back": self.read_back}

    @classmethod
    def from_json(cls, data: Any) -> NoteRecord:
        r = start(cls.KIND, cls.VERSION, data)
        return cls(r.integer("pid"), r.data.get("read_back"))


def note(ctx: JobContext) -> JobOutcome:
    """Writes a record and a key, reads them back, and says which process it ran in."""
    ctx.state.put("note.key", {"pid": os.getpid()})
    ctx.state.put_record(NoteRecord(os.getpid(), ctx.state.get("note.key")))
    stored = ctx.state.record(NoteRecord)
    return JobOutcome(stored is not None and stored.record.pid == os.getpid())


def updates(ctx: JobContext) -> JobOutcome:
    """A key/value update and a record update, applied by the daemon; what each saw before."""
    before, after = ctx.state.update(MergeMapping("merged", {"worker": os.getpid()}))
    seen, stored = ctx.state.update_record(DevicesRoundUpdate((), (), "devices", 5.0, False))
    ctx.state.put("updates.answer", {
        "before": before, "after": after, "pid": os.getpid(),
        "open_before": [o.target for o in seen.outages.open] if seen is not None else None,
        "open_after": [o.target for o in stored.outages.open]})  # fmt: skip
    return JobOutcome(True)


def hang(ctx: JobContext) -> JobOutcome:
    """Pure Python that never looks at its cancel event or deadline."""
    ctx.state.put("hang.pid", os.getpid())
    while True:
        pass


def hang_with_child(ctx: JobContext) -> JobOutcome:
    """Starts a long command in a session of its own (as the Runner does), then hangs."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    ctx.state.put("hang.pids", [os.getpid(), child.pid])
    while True:
        time.sleep(0.05)


def segfault(ctx: JobContext) -> JobOutcome:
    ctypes.string_at(0)
    return JobOutcome(True)


def hog(ctx: JobContext) -> JobOutcome:
    """Asks for 1 GiB at once, past a 256 MiB cap."""
    block = bytearray(1024 * 1024 * 1024)
    return JobOutcome(len(block) > 0)


def exits(ctx: JobContext) -> JobOutcome:
    os._exit(7)


def asks_for_note(ctx: JobContext) -> JobOutcome:
    """BAK-6's path: a job asks the scheduler to start another one now."""
    answer = ctx.request_run("note") if ctx.request_run is not None else "none"
    ctx.state.put("asked", answer)
    return JobOutcome(answer == "started", f"request_run answered {answer}")


def full_disk(ctx: JobContext) -> JobOutcome:
    """The daemon's StateError comes back as the same exception type."""
    from agent.state import StateError

    try:
        ctx.state.put_record(NoteRecord(os.getpid()))
    except StateError as exc:
        return JobOutcome(False, f"StateError came back: {exc}")
    return JobOutcome(True)


def _journal(ctx: JobContext, who: str) -> JobOutcome:
    from agent.journal import Journal

    for i in range(25):
        Journal(ctx.state_dir).append("test.worker", {"who": who, "i": i})
    return JobOutcome(True)


def journal_a(ctx: JobContext) -> JobOutcome:
    return _journal(ctx, "a")


def journal_b(ctx: JobContext) -> JobOutcome:
    return _journal(ctx, "b")
