"""Pure parts of the backup package: exit mapping, coverage, retention, rotation, locks, targets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from backup.config import BackupConfig, RetentionConfig
from backup.coverage import coverage
from backup.errors import Exit, RestoreRefused, classify
from backup.locks import is_dead_here, pid_alive
from backup.model import LockInfo, Snapshot, parse_time
from backup.restore import check_target, escape_pattern
from backup.retention import keep_args
from backup.verify import next_part
from common.schema import SchemaError, load_text

# stderr recorded from Debian's restic 0.14.0
MISSING = (
    "Fatal: unable to open config file: stat /mnt/backup/config: no such file or directory\n"
    "Is there a repository at the following location?\n/mnt/backup\n"
)
LOCKED = (
    "unable to create lock in backend: repository is already locked by PID 8049 on vm "
    "by root (UID 0, GID 0)\n"
    "lock was created at 2026-11-23 09:25:58 (4.515479994s ago)\nstorage ID d2f22da8\n"
    "the `unlock` command can be used to remove stale locks\n"
)
NO_SPACE = "Fatal: unable to save snapshot: write /mnt/small/data/ab/ab12: no space left on device\n"


@pytest.mark.parametrize(
    ("code", "stderr", "kind"),
    [
        (0, "", Exit.OK),
        (3, "Warning: at least one source file could not be read\n", Exit.PARTIAL),
        (1, MISSING, Exit.MISSING),
        (1, "Fatal: wrong password or no key found\n", Exit.WRONG_PASSWORD),
        (1, LOCKED, Exit.LOCKED),
        (1, NO_SPACE, Exit.NO_SPACE),
        (1, "Fatal: something else\n", Exit.FATAL),
        (10, "", Exit.MISSING),
        (11, "", Exit.LOCKED),
        (12, "", Exit.WRONG_PASSWORD),
        (130, "signal interrupt received, cleaning up\n", Exit.INTERRUPTED),
        (-9, "", Exit.INTERRUPTED),
        (42, "", Exit.FATAL),
    ],
)
def test_every_restic_exit_is_mapped_from_its_code_and_stderr(code: int, stderr: str, kind: Exit) -> None:
    assert classify(code, stderr) is kind


def test_a_timeout_wins_over_the_exit_code() -> None:
    assert classify(-9, "", timed_out=True) is Exit.TIMEOUT


def test_restic_times_with_nanoseconds_parse() -> None:
    expected = datetime(2026, 11, 23, 9, 25, 32, 620904, tzinfo=UTC).timestamp()
    assert parse_time("2026-11-23T09:25:32.620904808Z") == pytest.approx(expected, abs=1e-6)
    assert parse_time("2026-11-23T10:25:32+01:00") == parse_time("2026-11-23T09:25:32Z")


def _snap(sid: str, run: str, t: float) -> Snapshot:
    return Snapshot(sid, sid[:8], t, ("/srv",), "h", (f"hostward-run:{run}",) if run else ())


def test_coverage_pairs_runs_by_tag_and_reports_each_missing_run() -> None:
    cover = coverage({
        "primary": [_snap("p1", "r1", 100), _snap("p2", "r2", 200), _snap("p3", "r3", 300)],
        "secondary": [_snap("s1", "r1", 101), _snap("s3", "r3", 301), _snap("s9", "", 302)],
    })  # fmt: skip
    assert cover.gap == 1
    assert cover.missing == {"secondary": ("r2",)}
    assert [r.snapshot_ids for r in cover.rows][1] == {"primary": "p2", "secondary": ""}


def test_coverage_without_gaps_is_zero_and_old_runs_outside_the_window_are_not_judged() -> None:
    full = coverage({"primary": [_snap("p1", "r1", 100)], "secondary": [_snap("s1", "r1", 100)]})
    assert full.gap == 0
    old = coverage(
        {
            "primary": [_snap("p1", "r1", 0), _snap("p2", "r2", 10**8)],
            "secondary": [_snap("s2", "r2", 10**8)],
        },
        window=86400,
    )
    assert old.gap == 0 and len(old.rows) == 2


def test_copied_snapshots_pair_by_their_original_id() -> None:
    copied = Snapshot("c1", "c1", 5, ("/srv",), "h", (), original="p1")
    plain = Snapshot("p1x", "p1x", 5, ("/srv",), "h", (), original="p1")
    assert coverage({"primary": [plain], "secondary": [copied]}).gap == 0


def test_the_default_retention_keeps_five_years_and_every_year_for_good() -> None:
    assert keep_args(RetentionConfig()) == ("--keep-within", "5y", "--keep-yearly", "1000")
    assert keep_args(RetentionConfig(keep_within="", keep_daily=7, keep_yearly=0)) == ("--keep-daily", "7")


def test_a_retention_that_keeps_nothing_is_refused_by_the_schema() -> None:
    with pytest.raises(SchemaError, match="keeps nothing"):
        load_text(BackupConfig, "retention: {keep_within: '', keep_yearly: 0}\n")


def test_the_two_copies_must_not_share_a_location() -> None:
    text = (
        "repositories:\n  primary: {url: /b, password_file: /p}\n  secondary: {url: /b, password_file: /p}\n"
    )
    with pytest.raises(SchemaError, match="different places"):
        load_text(BackupConfig, text)


def test_the_read_data_slice_rotates_through_all_parts() -> None:
    parts = []
    previous = None
    for _ in range(31):
        previous = next_part(previous, 30)
        parts.append(previous)
    assert parts[:30] == list(range(1, 31)) and parts[30] == 1


def test_a_lock_is_dead_only_when_its_owner_is_a_dead_process_on_this_host() -> None:
    lock = LockInfo("id", 1000.0, False, "this-host", 4242)
    assert is_dead_here(lock, "this-host", alive=lambda pid, since: False)
    assert not is_dead_here(lock, "this-host", alive=lambda pid, since: True)
    assert not is_dead_here(lock, "other-host", alive=lambda pid, since: False)


def test_a_reused_pid_counts_as_dead_and_a_running_one_as_alive() -> None:
    import os
    import time

    assert pid_alive(os.getpid(), since=time.time())
    assert not pid_alive(os.getpid(), since=0.0)  # this process started after a lock from 1970
    assert not pid_alive(0, since=time.time())


def test_restore_targets_that_overwrite_live_data_are_refused(tmp_path: Path) -> None:
    live = tmp_path / "srv" / "his"
    live.mkdir(parents=True)
    with pytest.raises(RestoreRefused, match="live"):
        check_target("/", [str(live)], [str(live)], in_place=False)
    with pytest.raises(RestoreRefused, match="live data"):
        check_target(str(tmp_path / "srv" / ".."), ["/srv/his"], [str(live)], in_place=False)
    busy = tmp_path / "busy"
    (busy / "srv" / "his").mkdir(parents=True)
    (busy / "srv" / "his" / "a").write_text("x")
    with pytest.raises(RestoreRefused, match="not empty"):
        check_target(str(busy), ["/srv/his"], [str(live)], in_place=False)
    check_target(str(tmp_path / "empty"), ["/srv/his"], [str(live)], in_place=False)
    check_target("/", [str(live)], [str(live)], in_place=True)


def test_literal_paths_become_literal_restic_patterns() -> None:
    assert escape_pattern("/srv/报告[2026]*?.txt") == r"/srv/报告\[2026\]\*\?.txt"


def test_the_installed_restic_version_is_detected_and_a_missing_program_is_named() -> None:
    from backup.errors import ResticUnavailable
    from backup.restic import restic_version
    from collectors.system.runner import SubprocessRunner

    assert restic_version(SubprocessRunner()) >= (0, 14, 0)
    with pytest.raises(ResticUnavailable, match="cannot be run"):
        restic_version(SubprocessRunner(), "/nonexistent/restic")


def test_a_lock_owner_is_read_through_psutil_and_a_finished_one_is_gone() -> None:
    import subprocess
    import sys
    import time

    from collectors.system.live_processes import live_process

    before = time.time()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        found = live_process(child.pid)
        assert found is not None and found.name is not None and found.name.startswith("python")
        assert found.started is not None and before - 2 <= found.started <= time.time() + 2
        assert pid_alive(child.pid, since=time.time())
        assert not pid_alive(child.pid, since=before - 3600)  # a lock older than the process: PID reused
    finally:
        child.kill()
        child.wait()
    assert live_process(child.pid) is None
    assert not pid_alive(child.pid, since=time.time())
