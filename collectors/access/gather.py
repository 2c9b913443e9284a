"""Read the access events added since the bookmarks, from every source of this system.

Linux: wtmp (logins, logouts), btmp (failed logins), and auth.log (or /var/log/secure) with its
rotations; where neither exists and journald runs (an offline root: holds journal files), the
systemd journal (auth and authpriv facilities) after its cursor. Windows: the Security event
log after a record id. Each source has its own bookmark (a JSON-able dict the caller stores)
and its own status: a source that could not be read is an `error` and keeps its old bookmark,
so what it holds is read next time, never skipped.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from collectors.access import AccessEvent
from collectors.system import logtail
from collectors.system.files import SystemReadError, exists, is_dir, list_dir
from collectors.system.linux import authlog, wtmp
from collectors.system.runner import Runner
from common.errors import HostwardError

JOURNAL_DIR = "/var/log/journal"
JOURNALD_SOCKET = "/run/systemd/journal/socket"
JOURNAL_TIMEOUT = 60.0
JOURNAL_MAX_OUTPUT = 4 << 20


@dataclass
class SourceResult:
    """How one source read: its status (ok, error or absent), units read and malformed, why some may
    be missing (`gap`), its new bookmark, and whether more is waiting past the cap."""

    name: str
    status: str = "ok"  # ok | error | absent
    error: str = ""
    read: int = 0  # units (lines, records, entries) read
    malformed: int = 0
    gap: str = ""
    bookmark: dict[str, Any] = field(default_factory=dict)
    more: bool = False


@dataclass
class Gathered:
    """The events read from every source, and how each source read."""

    events: list[AccessEvent]
    sources: list[SourceResult]


def _file_source(
    root: str, name: str, path: str, saved: dict[str, Any], unit: int | None, max_bytes: int
) -> tuple[SourceResult, list[bytes]]:
    mark = logtail.Bookmark.from_json(saved.get("file"))
    tail = logtail.read_new(root, path, mark, unit=unit, max_bytes=max_bytes)
    bookmark = dict(saved)
    if tail.bookmark is not None:
        bookmark["file"] = tail.bookmark.to_json()
    result = SourceResult(name, read=len(tail.units), gap=tail.gap, bookmark=bookmark, more=tail.more)
    result.malformed = 1 if tail.partial else 0
    return result, tail.units


def _wtmp(root: str, saved: dict[str, Any], max_bytes: int) -> tuple[SourceResult, list[AccessEvent]]:
    result, units = _file_source(root, "wtmp", wtmp.WTMP, saved, wtmp.SIZE, max_bytes)
    lines = dict(saved.get("lines") or {})
    events, bad = wtmp.wtmp_events(units, lines)
    result.malformed += bad
    result.bookmark["lines"] = dict(list(lines.items())[-256:])  # open sessions: a logout's user
    return result, events


def _btmp(root: str, saved: dict[str, Any], max_bytes: int) -> tuple[SourceResult, list[AccessEvent]]:
    result, units = _file_source(root, "btmp", wtmp.BTMP, saved, wtmp.SIZE, max_bytes)
    events, bad = wtmp.btmp_events(units)
    result.malformed += bad
    return result, events


def _auth(
    root: str, path: str, saved: dict[str, Any], max_bytes: int
) -> tuple[SourceResult, list[AccessEvent]]:
    result, units = _file_source(root, "auth.log", path, saved, None, max_bytes)
    now = time.time()
    events = []
    for raw in units:
        found = authlog.parse_line(raw.decode("utf-8", "replace"), now)
        if found is False:
            result.malformed += 1
        elif isinstance(found, AccessEvent):
            events.append(found)
    return result, events


def _journal(
    runner: Runner, saved: dict[str, Any], directory: str | None
) -> tuple[SourceResult, list[AccessEvent]]:
    """The journal's auth entries after the saved cursor: the system's, or (an offline root) the
    journal files in `directory`."""
    cursor = saved.get("cursor")
    argv = ["journalctl", "--no-pager", "-o", "json", *authlog.JOURNAL_MATCH]
    if directory is not None:
        argv.append(f"--directory={directory}")
    if isinstance(cursor, str) and cursor:
        argv.append(f"--after-cursor={cursor}")
    result = runner.run(argv, timeout=JOURNAL_TIMEOUT, max_output=JOURNAL_MAX_OUTPUT)
    if result.timed_out or result.returncode != 0:
        raise SystemReadError(
            "journalctl", f"exit {result.returncode}: {result.stderr_tail(200) or 'no message'}"
        )
    lines = result.stdout.split(b"\n")
    if result.truncated or not result.stdout.endswith(b"\n"):
        lines.pop()  # a line cut at the size cap: read again next time, after the last whole one
    if not lines and not cursor and not _journal_has_entries(runner, directory):
        raise SystemReadError(
            "journalctl", "the journal holds no entry at all: journald not running or not kept?"
        )
    out = SourceResult("journal", bookmark=dict(saved), more=result.truncated)
    events = []
    for line in lines:
        if not line.strip():
            continue
        out.read += 1
        parsed = authlog.parse_journal_line(line)
        if parsed is None:
            out.malformed += 1
            continue
        event, out.bookmark["cursor"] = parsed
        if event is not None:
            events.append(event)
    return out, events


def _journal_has_entries(runner: Runner, directory: str | None) -> bool:
    """Whether the journal holds any entry (no auth entry ever is possible; no entry at all means
    there is no journal to read: reading nothing is then no evidence)."""
    argv = ["journalctl", "--no-pager", "-o", "json", "-n", "1"]
    if directory is not None:
        argv.append(f"--directory={directory}")
    result = runner.run(argv, timeout=JOURNAL_TIMEOUT, max_output=1 << 20)
    return result.ok and bool(result.stdout.strip())


def _present(root: str, path: str) -> bool:
    """Whether `path` exists; one that cannot even be looked at counts as present, so reading
    it fails and names the reason (an error, never "absent")."""
    try:
        return exists(root, path)
    except SystemReadError:
        return True


def _dir_path(root: str, path: str) -> str:
    from collectors.system import rootfs  # POSIX only; an offline root's journal

    return rootfs.dir_path(root, path)


def gather_linux(
    root: str, runner: Runner, bookmarks: dict[str, Any], max_bytes: int = 128 << 10
) -> Gathered:
    """Every Linux source once. `bookmarks` maps a source name to its saved dict."""
    events: list[AccessEvent] = []
    sources: list[SourceResult] = []

    def run(name: str, read: Any) -> None:
        saved = bookmarks.get(name) if isinstance(bookmarks.get(name), dict) else {}
        try:
            result, found = read(saved)
        except (HostwardError, OSError) as exc:
            sources.append(SourceResult(name, "error", str(exc), bookmark=dict(saved or {})))
            return
        sources.append(result)
        events.extend(found)

    for name, path, reader in (("wtmp", wtmp.WTMP, _wtmp), ("btmp", wtmp.BTMP, _btmp)):
        if _present(root, path):
            run(name, lambda saved, r=reader: r(root, saved, max_bytes))
        else:
            sources.append(SourceResult(name, "absent"))
    auth = next((p for p in authlog.AUTH_LOGS if _present(root, p)), None)
    live = root in ("/", "") and sys.platform.startswith("linux")
    if auth is not None:
        run("auth.log", lambda saved: _auth(root, auth, saved, max_bytes))
    elif live and exists(root, JOURNALD_SOCKET):  # journald runs: its journal is the auth log
        run("journal", lambda saved: _journal(runner, saved, None))
    elif not live and is_dir(root, JOURNAL_DIR) and list_dir(root, JOURNAL_DIR):
        run("journal", lambda saved: _journal(runner, saved, _dir_path(root, JOURNAL_DIR)))
    else:
        sources.append(SourceResult("auth.log", "absent"))
    events.sort(key=lambda e: e.ts)
    return Gathered(events, sources)


def gather_windows(runner: Runner, bookmarks: dict[str, Any]) -> Gathered:
    from collectors.system.windows import security_log

    saved = bookmarks.get("security") if isinstance(bookmarks.get("security"), dict) else {}
    assert isinstance(saved, dict)
    last = int(saved.get("record_id") or 0)
    try:
        read = security_log.read_security(runner, last)
    except HostwardError as exc:
        return Gathered([], [SourceResult("security", "error", str(exc), bookmark=dict(saved))])
    result = SourceResult(
        "security",
        read=len(read.events),
        gap=read.gap,
        bookmark={"record_id": read.last_record},
        more=read.more,
    )
    return Gathered(read.events, [result])
