"""The access-log archive (daily gzip segments, sealed with a checksum list, pruned after
keep_days, a torn member cut back) and the `access_log` job on a fixture root: wtmp, btmp and
an auth.log rotated between two runs; bookmarks make the second run add only what is new."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from agent.access.archive import Archive
from agent.actions.access_log import BOOKMARKS_KEY, record_access
from agent.actions.base import JobContext
from agent.config import load_config
from agent.journal import Journal
from agent.records.access import AccessLogRecord
from agent.state import State
from collectors.access import AccessEvent
from collectors.system.linux import wtmp

DAY = 86400.0
T = 1764900000.0  # 2025-12-05 02:00 UTC


def ev(ts: float, user: str = "alice", kind: str = "login") -> AccessEvent:
    return AccessEvent(ts, kind, user, "auth.log", "sshd", "192.0.2.7")


def test_events_appended_on_two_days_land_in_two_segments_and_the_first_is_sealed(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.append([ev(T), ev(T + 1, "bob")], T)
    archive.append([ev(T + 2)], T + 10)
    archive.append([ev(T + DAY)], T + DAY)
    assert archive.segments() == ["2025-12-05.jsonl.gz", "2025-12-06.jsonl.gz"]
    assert [e.user for e in archive.read()] == ["alice", "bob", "alice", "alice"]
    assert [e.ts for e in archive.read(since=T + 1.5)] == [T + 2, T + DAY]
    sums = (archive.dir / "SHA256SUMS").read_text().split()
    assert sums[1] == "2025-12-05.jsonl.gz" and archive.verify() == []


def test_a_sealed_segment_changed_afterwards_fails_verification(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.append([ev(T)], T)
    archive.seal_past(T + DAY)
    seg = archive.dir / "2025-12-05.jsonl.gz"
    os.chmod(seg, 0o600)
    seg.write_bytes(seg.read_bytes() + b"\0")
    assert archive.verify() == ["2025-12-05.jsonl.gz: changed since it was sealed"]


def test_a_torn_member_left_by_a_crash_is_cut_back_before_the_next_append(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.append([ev(T)], T)
    seg = archive.dir / "2025-12-05.jsonl.gz"
    with open(seg, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00half a member")
    stats: list = []
    assert len(list(archive.read(stats=stats))) == 1 and stats[0].torn == ["2025-12-05.jsonl.gz"]
    archive.append([ev(T + 5, "bob")], T + 5)
    assert [e.user for e in archive.read()] == ["alice", "bob"]


def test_segments_older_than_keep_days_are_pruned_and_newer_ones_kept(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.append([ev(T)], T)
    archive.append([ev(T + 300 * DAY)], T + 300 * DAY)
    assert archive.prune(400, T + 400 * DAY) == []
    assert archive.prune(400, T + 401 * DAY) == ["2025-12-05.jsonl.gz"]
    assert archive.segments() == ["2026-10-01.jsonl.gz"]
    assert "2025-12-05" not in (archive.dir / "SHA256SUMS").read_text()


@pytest.fixture
def ctx(tmp_path: Path) -> JobContext:
    path = tmp_path / "hostward.yaml"
    path.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    loaded = load_config(str(path))
    return JobContext(
        loaded.config,
        State.open(loaded.state_dir),
        loaded.state_dir,
        time.monotonic() + 60,
        threading.Event(),
        logging.getLogger("t"),
    )


def _write(root: Path, rel: str, data: bytes, mode: str = "ab") -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, mode) as fh:
        fh.write(data)


def test_the_job_archives_each_event_once_across_an_auth_log_rotation(
    ctx: JobContext, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    now = time.time()
    _write(root, "var/log/wtmp", wtmp.record(wtmp.USER_PROCESS, "alice", "pts/0", "192.0.2.7", now - 50))
    _write(
        root, "var/log/btmp", wtmp.record(wtmp.LOGIN_PROCESS, "root", "ssh:notty", "203.0.113.5", now - 40)
    )
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 30))
    line = f"{stamp} pc1 sshd[9]: Failed password for root from 203.0.113.5 port 1 ssh2\n".encode()
    _write(root, "var/log/auth.log", line)
    assert record_access(ctx, str(root)).success
    archive = Archive(ctx.state_dir)
    assert sorted((e.kind, e.source) for e in archive.read()) == [
        ("failed_login", "auth.log"),
        ("failed_login", "btmp"),
        ("login", "wtmp"),
    ]
    os.rename(root / "var/log/auth.log", root / "var/log/auth.log.1")
    _write(root, "var/log/auth.log", line.replace(b"root", b"admin"))
    _write(root, "var/log/wtmp", wtmp.record(wtmp.DEAD_PROCESS, "", "pts/0", "", now - 20))
    outcome = record_access(ctx, str(root))
    assert outcome.success and not outcome.partial
    events = list(archive.read())
    assert len(events) == 5
    assert sorted((e.kind, e.user) for e in events[3:]) == [("failed_login", "admin"), ("logout", "alice")]
    record = ctx.state.record(AccessLogRecord)
    assert record is not None
    assert record.record.failed_total == {"auth.log": 2, "btmp": 1}
    assert record.record.sources["auth.log"].status == "ok"
    assert set(ctx.state.get(BOOKMARKS_KEY)) == {"wtmp", "btmp", "auth.log"}


def test_an_unreadable_source_makes_the_run_partial_and_keeps_its_bookmark(
    ctx: JobContext, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    _write(root, "var/log/wtmp", wtmp.record(wtmp.USER_PROCESS, "alice", "pts/0", "", time.time()))
    (root / "var/log/auth.log").mkdir()  # not a file: cannot be read
    outcome = record_access(ctx, str(root))
    assert outcome.partial and "auth.log" in outcome.error
    record = ctx.state.record(AccessLogRecord)
    assert record is not None and record.record.sources["auth.log"].status == "error"
    assert "auth.log" not in (ctx.state.get(BOOKMARKS_KEY) or {})


def test_a_pruned_segment_is_journaled(ctx: JobContext, tmp_path: Path) -> None:
    Archive(ctx.state_dir).append([ev(T)], time.time() - 500 * DAY)
    record_access(ctx, str(tmp_path / "empty-root"))
    kinds = [e.kind for e in Journal(ctx.state_dir).entries()]
    assert "access_log.pruned" in kinds


def test_a_log_directory_that_cannot_be_entered_is_an_error_not_an_absent_log(tmp_path: Path) -> None:
    from collectors.access.gather import gather_linux
    from collectors.system.runner import SubprocessRunner

    root = tmp_path / "root"
    (root / "var").mkdir(parents=True)
    (root / "var/log").symlink_to("log")  # a link loop where the log directory should be
    got = gather_linux(str(root), SubprocessRunner(), {})
    assert {s.name: s.status for s in got.sources} == {"wtmp": "error", "btmp": "error", "auth.log": "error"}
