"""A host without auth.log: the systemd journal's auth entries, read after the saved cursor.

Real journal files: systemd-journal-remote writes them from the journal export format into an
offline root's /var/log/journal, and the real journalctl reads them (`--directory`), as the
agent reads the live system journal (without --directory) on a journal-only host."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from agent.access.archive import Archive
from agent.actions.access_log import BOOKMARKS_KEY, record_access
from agent.actions.base import JobContext
from agent.config import load_config
from agent.state import State

REMOTE = next(
    (
        p
        for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
        if Path(p).exists()
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    REMOTE is None or shutil.which("journalctl") is None, reason="needs journalctl and systemd-journal-remote"
)


def write_journal(path: Path, messages: list[tuple[str, str, str]], first: int) -> None:
    """Journal export format (KEY=value lines, a blank line between entries) into a journal file."""
    now = int(time.time() * 1e6)
    text = "\n".join(
        f"__REALTIME_TIMESTAMP={now + i}\n__MONOTONIC_TIMESTAMP={first + i}\n"
        f"_BOOT_ID=0123456789abcdef0123456789abcdef\nSYSLOG_IDENTIFIER={ident}\nSYSLOG_FACILITY={facility}\n"
        f"PRIORITY=6\nMESSAGE={message}\n_HOSTNAME=pc1\n"
        for i, (ident, message, facility) in enumerate(messages)
    )
    export = path.with_suffix(".export")
    export.write_text(text + "\n", encoding="utf-8")
    subprocess.run([REMOTE or "", "-o", str(path), str(export)], check=True, capture_output=True, timeout=60)
    export.unlink()


def test_journal_auth_entries_are_archived_once_across_two_runs(tmp_path: Path) -> None:
    journal_dir = tmp_path / "root/var/log/journal"
    journal_dir.mkdir(parents=True)
    write_journal(
        journal_dir / "a.journal",
        [
            ("sshd", "Accepted password for alice from 192.0.2.7 port 50022 ssh2", "10"),
            ("kernel", "usb 1-1: new high-speed USB device number 2", "0"),  # not auth: not read
            ("sshd", "Failed password for root from 203.0.113.5 port 4242 ssh2", "10"),
        ],
        1000,
    )
    cfg = tmp_path / "hostward.yaml"
    cfg.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    loaded = load_config(str(cfg))
    ctx = JobContext(
        loaded.config,
        State.open(loaded.state_dir),
        loaded.state_dir,
        time.monotonic() + 60,
        threading.Event(),
        logging.getLogger("t"),
    )
    assert record_access(ctx, str(tmp_path / "root")).success
    assert "cursor" in ctx.state.get(BOOKMARKS_KEY)["journal"]
    write_journal(
        journal_dir / "b.journal",
        [("sudo", "alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/id", "10")],
        2000,
    )
    assert record_access(ctx, str(tmp_path / "root")).success
    events = list(Archive(loaded.state_dir).read())
    assert [(e.kind, e.user, e.source) for e in events] == [
        ("login", "alice", "journal"),
        ("failed_login", "root", "journal"),
        ("privilege", "alice", "journal"),
    ]


def test_an_empty_journal_is_an_error_not_a_quiet_host(tmp_path: Path) -> None:
    (tmp_path / "root/var/log/journal/0123456789abcdef0123456789abcdef").mkdir(parents=True)  # journald's
    cfg = tmp_path / "hostward.yaml"
    cfg.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    loaded = load_config(str(cfg))
    ctx = JobContext(
        loaded.config,
        State.open(loaded.state_dir),
        loaded.state_dir,
        time.monotonic() + 60,
        threading.Event(),
        logging.getLogger("t"),
    )
    outcome = record_access(ctx, str(tmp_path / "root"))
    assert not outcome.success and "no entry at all" in outcome.error
