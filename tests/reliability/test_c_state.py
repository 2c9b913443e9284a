"""State faults: a damaged state.db never stops the agent; a state_dir that is a system
directory or relative is refused at validation with FILE:LINE."""

from __future__ import annotations

import sqlite3
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_c_kit import fill, hostward, kinds, needs_root, sample, tmpfs
from testkit import AgentProcess, free_port

from agent import faults
from agent.actions.base import JobOutcome
from agent.config.schema import Config, state_dir_problem
from agent.records.watchdog import SetAside, WatchdogJobsRecord
from agent.scheduler import ScheduledJob, Scheduler
from agent.state import State, StateError
from common.schema.common import Schedule
from common.schema.fields import Duration

Damage = Callable[[Path], None]


def _garbage(db: Path) -> None:
    db.write_bytes(bytes(range(256)) * 40)
    # and the -wal/-shm a crash left next to it: SQLite would delete them when it gives up
    db.with_name("state.db-wal").write_bytes(b"WAL frames of a crash " * 50)
    db.with_name("state.db-shm").write_bytes(b"\x01" * 32768)


def _truncated(db: Path) -> None:
    raw = db.read_bytes()
    db.write_bytes(raw[: len(raw) // 2])


def _text_file(db: Path) -> None:
    db.write_text("this is not a database\n", encoding="utf-8")


def _torn_page(db: Path) -> None:
    raw = bytearray(db.read_bytes())
    raw[4096 : 4096 + 2000] = b"\xff" * 2000  # a page overwritten (a bad sector, a stray write)
    db.write_bytes(bytes(raw))


def populated(state: Path) -> Path:
    """A state with some history, checkpointed into state.db (no -wal left to hide the damage)."""
    s = State.open(state)
    aside: dict[str, SetAside] = {}
    for i in range(300):
        s.record_run("collect", 1_795_392_000.0 + i, 0.1, True)
        aside[f"job{i % 30}"] = SetAside(float(i), 1, "x" * 200)
        s.put_record(WatchdogJobsRecord(dict(aside)))
    s.close()
    db = sqlite3.connect(state / "state.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return state / "state.db"


@pytest.mark.parametrize("damage", [_garbage, _truncated, _text_file, _torn_page],
                         ids=["garbage", "truncated", "text", "torn-page"])
def test_a_damaged_state_database_is_set_aside_and_the_agent_keeps_running(
    tmp_path: Path, damage: Damage
) -> None:
    state = tmp_path / "state"
    db = populated(state)
    damage(db)
    damaged = {suffix: db.with_name(db.name + suffix).read_bytes()
               for suffix in ("", "-wal", "-shm") if db.with_name(db.name + suffix).exists()}
    cfg = tmp_path / "hostward.yaml"
    cfg.write_text(
        f"version: 1\nstate_dir: {state}\n"
        f'exporter: {{listen: "127.0.0.1:{free_port()}"}}\n'
        "collect: {schedule: {every: 1s, timeout: 5s}}\n"
        "audit: {schedule: {every: 1h, enabled: false}}\n"
        'report: {daily: {schedule: {at: "23:55", enabled: false}}}\n',
        encoding="utf-8",
    )
    agent = AgentProcess(tmp_path, cfg)
    try:
        url = agent.url()

        def collected() -> str | None:
            with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
                body = str(response.read().decode("utf-8"))
            return body if sample(body, "hostward_job_success", job="collect") == 1 else None

        agent.wait_for(collected, what="a collection in the fresh database")
        body = collected()
    finally:
        assert agent.stop() == 0
    assert body is not None
    assert sample(body, "hostward_state_recovered_timestamp_seconds") is not None
    [aside] = [p for p in state.glob("state.db.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    kept = {suffix: aside.with_name(aside.name + suffix).read_bytes()
            for suffix in ("", "-wal", "-shm") if aside.with_name(aside.name + suffix).exists()}
    assert kept == damaged  # kept as evidence, byte for byte, with the -wal/-shm as they were
    assert not list(state.glob("*.pre-open"))
    assert "is damaged" in agent.stderr and aside.name in agent.stderr
    assert "state.recovered" in kinds(state)
    assert hostward("journal", "verify", "-c", str(cfg)).returncode == 0


def test_a_database_that_cannot_be_opened_is_not_mistaken_for_damage(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "state.db").mkdir(parents=True)  # cannot be opened at all: not evidence of damage
    with pytest.raises(StateError, match="cannot open state database"):
        State.open(state)
    assert (state / "state.db").is_dir() and not list(state.glob("state.db.damaged-*"))


# Through the CLI (a few); every value below is also checked in process.
BAD_STATE_DIRS = ["/", "/etc/", "/proc/self", "/var/lib/../..", "./var/lib/hostward", "C:\\\\Windows"]


@pytest.mark.parametrize("value", BAD_STATE_DIRS)
def test_a_system_or_relative_state_dir_is_refused_with_file_and_line(tmp_path: Path, value: str) -> None:
    cfg = tmp_path / "hostward.yaml"
    cfg.write_text(f'version: 1\n# where state lives\nstate_dir: "{value}"\n', encoding="utf-8")
    done = hostward("config", "validate", "-c", str(cfg))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"{cfg}:3: state_dir: "), done.stderr
    assert "system directory" in done.stderr or "absolute" in done.stderr


@pytest.mark.parametrize(
    ("value", "windows", "refused"),
    [
        ("/var/lib/hostward", False, False), ("/srv/hostward/state", False, False), ("", False, False),
        ("/usr/local/var/hostward", False, False), ("/sbin", False, True), ("/lib", False, True),
        ("/", False, True), ("/etc", False, True), ("/usr", False, True), ("/proc", False, True),
        ("/sys/kernel", False, True), ("/dev/shm", False, True), ("/bin", False, True),
        ("/boot", False, True), ("/lib64", False, True), ("/var", False, True), ("state", False, True),
        ("C:state", False, True), ("C:\\", False, True),
        ("C:\\ProgramData\\hostward", True, False), ("D:\\hostward", True, False),
        ("C:\\", True, True), ("c:/", True, True), ("C:\\Windows", True, True),
        ("C:\\Windows\\System32\\config", True, True), ("C:\\Program Files", True, True),
        ("C:\\Users", True, True), ("hostward", True, True), ("\\hostward", True, True),
        ("\\\\server\\share\\hostward", True, True),
    ],
)
def test_state_dir_rules_on_both_platforms(value: str, windows: bool, refused: bool) -> None:
    assert (state_dir_problem(value, windows=windows) is not None) is refused


@needs_root
def test_a_run_that_cannot_be_stored_is_a_failed_run_and_counted(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        state = State.open(disk / "state")
        schedule = Schedule(every=Duration(60), timeout=Duration(5))
        job = ScheduledJob("collect", schedule, lambda ctx: JobOutcome(True))
        scheduler = Scheduler([job], config=Config(), state=state, state_dir=disk / "state")
        [first] = scheduler.run_due_once()
        assert first.success
        before = faults.snapshot()[1].get("state_write")
        filler = fill(disk)
        [second] = scheduler.run_due_once()
        assert not second.success and second.error.startswith("the state could not be written: ")
        shown = state.snapshot().jobs["collect"]
        assert not shown.last.success and "could not be written" in shown.last.error
        assert shown.last_success == first_end(state)  # the last stored success, not the lost run
        assert faults.snapshot()[1]["state_write"].count > (before.count if before else 0)
        filler.unlink()
        [third] = scheduler.run_due_once()
        assert third.success and state.snapshot().jobs["collect"].last.success
        state.close()


def first_end(state: State) -> float:
    """The end of the newest stored successful run."""
    return next(r for r in state.runs("collect") if r.success).finished


def test_a_healthy_database_left_with_its_wal_by_a_crash_opens_with_nothing_lost(tmp_path: Path) -> None:
    live = State.open(tmp_path / "live")
    for i in range(20):
        live.record_run("collect", 1_795_392_000.0 + i, 0.1, True)
    crashed = tmp_path / "crashed"  # the files as a power cut leaves them: the WAL not checkpointed
    crashed.mkdir()
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (crashed / name).write_bytes((tmp_path / "live" / name).read_bytes())
    live.close()
    assert (crashed / "state.db-wal").stat().st_size > 0
    reopened = State.open(crashed)
    assert len(reopened.runs("collect")) == 20
    reopened.close()
    assert not list(crashed.glob("state.db.damaged-*")) and not list(crashed.glob("*.pre-open"))
