"""Readers of restic's output: every one either returns a well-formed record or raises
`ResticOutputInvalid` (a `ResticFailed`, so a `BackupError` naming the repository).

Nothing here turns unreadable or missing output into a success: an empty snapshot listing is
`[]` (restic prints it), never empty output; a backup without a summary and a snapshot id is
an error; a check is ok only when restic exited 0 *and* said "no errors were found"; a lock, a
node or a snapshot missing a field it must have is an error. `tests/backup/test_fuzz_restic_json.py`
feeds arbitrary and malformed JSON to each of them.

Field formats checked against Debian's restic 0.14 (and the 0.16/0.17 JSON documented in
restic's "Scripting" chapter, e.g. `restore --json`'s summary).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from backup.errors import ResticFailed
from backup.model import BackupSummary, LockInfo, Node, Snapshot, Status, parse_time
from common.frozen import frozen

_HEX = re.compile(r"[0-9a-f]{8,64}")
_ID = re.compile(r"[0-9a-f]{64}")
_SKIPPED = re.compile(rb"^(.+) does not exist, skipping$")
_VERIFIED = re.compile(r"finished verifying (\d+) files")


class ResticOutputInvalid(ResticFailed):
    """restic's output could not be read as what the command must print."""


@frozen
class RestoreCount:
    """What restic itself says it restored. `bytes` is None when restic did not say (0.14)."""

    files: int
    bytes: int | None
    source: str  # "summary" (restic's JSON summary) or "verify" (0.14's "finished verifying N files")


def json_line(line: bytes) -> dict[str, Any] | None:
    """One line of restic's JSON-lines output as an object, None if it is not one."""
    line = line.strip()
    if not line.startswith(b"{"):
        return None
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def json_document(stdout: bytes, repository: str, what: str) -> Any:
    """The one JSON document restic printed (text before it, e.g. a warning, is skipped)."""
    text = stdout.decode("utf-8", "replace").strip()
    start = min((i for i in (text.find("["), text.find("{")) if i >= 0), default=-1)
    if start < 0:
        raise ResticOutputInvalid(repository, f"restic {what} printed no JSON: {text[:200]!r}")
    try:
        return json.loads(text[start:])
    except (ValueError, RecursionError) as exc:
        raise ResticOutputInvalid(repository, f"unreadable JSON from restic {what}: {text[:200]!r}") from exc


def json_object(stdout: bytes, repository: str, what: str) -> Mapping[str, Any]:
    value = json_document(stdout, repository, what)
    if not isinstance(value, dict):
        raise ResticOutputInvalid(repository, f"restic {what} did not print a JSON object")
    return value


def _record(repository: str, what: str, build: Any, *args: Any) -> Any:
    """`build(*args)`, with any shape error turned into ResticOutputInvalid."""
    try:
        return build(*args)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise ResticOutputInvalid(repository, f"malformed {what} from restic: {exc!r}"[:300]) from exc


def _count(item: Mapping[str, Any], key: str, required: bool = False) -> int:
    value = item.get(key)
    if value is None and not required:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != int(value):
        raise ValueError(f"{key} is not a count: {value!r}")
    return int(value)


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is missing or not text: {value!r}")
    return value


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} is not a list of text: {value!r}")
    return tuple(value)


def _snapshot(item: Any) -> Snapshot:
    if not isinstance(item, dict):
        raise TypeError(f"a snapshot is not an object: {item!r}")
    snap_id = _text(item, "id")
    if not _ID.fullmatch(snap_id):
        raise ValueError(f"snapshot id {snap_id!r}")
    short = item.get("short_id")
    original = item.get("original")
    return Snapshot(
        id=snap_id,
        short_id=short if isinstance(short, str) and short else snap_id[:8],
        time=_time(item, "time"),
        paths=_strings(item.get("paths"), "paths"),
        hostname=str(item.get("hostname") or ""),
        tags=_strings(item.get("tags"), "tags"),
        original=original if isinstance(original, str) else "",
    )


def _time(item: Mapping[str, Any], key: str) -> float:
    return parse_time(_text(item, key))


def snapshots(stdout: bytes, repository: str) -> tuple[Snapshot, ...]:
    """`restic snapshots --json`: a JSON list (oldest first after sorting)."""
    data = json_document(stdout, repository, "snapshots")
    if not isinstance(data, list):
        raise ResticOutputInvalid(repository, "restic snapshots did not print a JSON list")
    found = [_record(repository, "snapshot", _snapshot, item) for item in data]
    return tuple(sorted(found, key=lambda s: s.time))


def backup_summary(stdout: bytes, stderr: bytes, repository: str, partial: bool) -> BackupSummary:
    """`restic backup --json`: the summary line, and every item restic said it could not read.

    A summary without a snapshot id, or with fields of the wrong type, is an error. Items that
    restic could not read (its JSON `error` lines, on stderr in 0.14, and its "X does not
    exist, skipping" lines) make the summary "partial" even when restic exited 0.
    """
    summary: dict[str, Any] | None = None
    for line in stdout.splitlines():
        message = json_line(line)
        if message is not None and message.get("message_type") == "summary":
            summary = message
    if summary is None:
        raise ResticOutputInvalid(repository, "restic backup ended without a summary")
    unreadable = tuple(unreadable_items(stdout + b"\n" + stderr))
    status: Status = "partial" if partial or unreadable else "ok"
    return _record(repository, "backup summary", _summary, repository, summary, status, unreadable)  # type: ignore[no-any-return]


def _summary(
    repository: str, item: Mapping[str, Any], status: Status, unreadable: tuple[str, ...]
) -> BackupSummary:
    snap = _text(item, "snapshot_id")
    if not _HEX.fullmatch(snap):
        raise ValueError(f"snapshot_id {snap!r}")
    duration = item.get("total_duration", 0.0)
    if isinstance(duration, bool) or not isinstance(duration, int | float) or not duration >= 0:
        raise ValueError(f"total_duration {duration!r}")
    return BackupSummary(
        repository=repository,
        status=status,
        snapshot_id=snap,
        files_new=_count(item, "files_new"),
        files_changed=_count(item, "files_changed"),
        files_unmodified=_count(item, "files_unmodified"),
        bytes_added=_count(item, "data_added"),
        files_processed=_count(item, "total_files_processed"),
        bytes_processed=_count(item, "total_bytes_processed"),
        duration=float(duration),
        unreadable=unreadable[:100],
    )


def unreadable_items(output: bytes) -> Iterator[str]:
    """What restic could not read: its JSON `error` lines and its "does not exist" lines."""
    for line in output.splitlines():
        message = json_line(line)
        if message is not None:
            if message.get("message_type") == "error":
                item = message.get("item")
                error = message.get("error")
                yield str(item) if item else (json.dumps(error, ensure_ascii=False) if error else "?")
            continue
        skipped = _SKIPPED.match(line.strip())
        if skipped:
            yield skipped.group(1).decode("utf-8", "backslashreplace") + " (does not exist)"


def lock(lock_id: str, stdout: bytes, repository: str) -> LockInfo:
    """`restic cat lock ID`."""
    item = json_object(stdout, repository, "cat lock")

    def build() -> LockInfo:
        exclusive = item.get("exclusive", False)
        if not isinstance(exclusive, bool):
            raise ValueError(f"exclusive {exclusive!r}")
        host = item.get("hostname", "")
        if not isinstance(host, str):
            raise ValueError(f"hostname {host!r}")
        return LockInfo(lock_id, _time(item, "time"), exclusive, host, _count(item, "pid", required=True))

    return _record(repository, "lock", build)  # type: ignore[no-any-return]


def lock_ids(stdout: bytes, repository: str) -> tuple[str, ...]:
    """`restic list locks`: one 64-hex id per line."""
    ids = tuple(stdout.decode("utf-8", "replace").split())
    bad = [i for i in ids if not _ID.fullmatch(i)]
    if bad:
        raise ResticOutputInvalid(repository, f"restic list locks printed {bad[0][:80]!r}, not a lock id")
    return ids


def _node(item: Mapping[str, Any]) -> Node:
    mtime = item.get("mtime")
    kind = item.get("type", "")
    if not isinstance(kind, str):
        raise ValueError(f"type {kind!r}")
    return Node(
        path=_text(item, "path"),
        type=kind,
        size=_count(item, "size"),
        mtime=_time(item, "mtime") if mtime else 0.0,
    )


def node(item: Mapping[str, Any], repository: str) -> Node:
    """One node object (a line of `ls --json`, a match of `find --json`)."""
    return _record(repository, "node", _node, item)  # type: ignore[no-any-return]


def snapshot(item: Mapping[str, Any], repository: str) -> Snapshot:
    """One snapshot object (the first line of `ls --json`)."""
    return _record(repository, "snapshot", _snapshot, item)  # type: ignore[no-any-return]


def nodes(stdout: bytes, repository: str) -> tuple[Node, ...]:
    """`restic ls --json SNAPSHOT`: the snapshot line first, then one line per node."""
    found: list[Node] = []
    snapshot_seen = False
    for line in stdout.splitlines():
        item = json_line(line)
        if item is None:
            continue
        kind = item.get("struct_type")
        if kind == "snapshot":
            snapshot_seen = True
        elif kind == "node":
            found.append(_record(repository, "node", _node, item))
    if not snapshot_seen:
        raise ResticOutputInvalid(repository, "restic ls printed no snapshot line")
    return tuple(found)


def stats_size(stdout: bytes, repository: str) -> int:
    """`restic stats --json --mode raw-data`: total_size, required."""
    item = json_object(stdout, repository, "stats")
    return _record(repository, "stats", _count, item, "total_size", True)  # type: ignore[no-any-return]


def forgotten(stdout: bytes, repository: str) -> int:
    """`restic forget --json`: how many snapshots the groups remove (restic 0.14 prints `null`
    when nothing matched no group)."""
    data = json_document(stdout, repository, "forget")
    if data is None:
        return 0
    if not isinstance(data, list):
        raise ResticOutputInvalid(repository, "restic forget did not print a JSON list")

    def count() -> int:
        total = 0
        for group in data:
            if not isinstance(group, dict):
                raise TypeError(f"a forget group is not an object: {group!r}")
            remove = group.get("remove")
            if remove is not None and not isinstance(remove, list):
                raise TypeError(f"remove is not a list: {remove!r}")
            total += len(remove or ())
        return total

    return _record(repository, "forget", count)  # type: ignore[no-any-return]


def check_outcome(exit_ok: bool, stdout: bytes, stderr: bytes) -> tuple[bool, tuple[str, ...]]:
    """`restic check`: (ok, problem lines). Ok only with exit 0, restic's own "no errors were
    found" and no problem line: silence or garbage is never a passed check."""
    text = (stdout + b"\n" + stderr).decode("utf-8", "replace")
    problems = tuple(line.strip() for line in text.splitlines() if _is_problem(line))[:50]
    said_clean = any(line.strip() == "no errors were found" for line in text.splitlines())
    return exit_ok and said_clean and not problems, problems


def _is_problem(line: str) -> bool:
    text = line.strip().lower()
    return (
        bool(text)
        and ("error" in text or "fatal" in text or "damaged" in text)
        and ("no errors were found" not in text)
    )


def restore_count(stdout: bytes) -> RestoreCount | None:
    """What restic says it restored: its JSON summary (0.16+), else 0.14's verify line."""
    summary: dict[str, Any] | None = None
    verified: int | None = None
    for line in stdout.splitlines():
        item = json_line(line)
        if item is not None and item.get("message_type") == "summary":
            summary = item
            continue
        match = _VERIFIED.search(line.decode("utf-8", "replace"))
        if match:
            verified = int(match.group(1))
    if summary is not None:
        try:
            files = _count(summary, "files_restored", required=True)
            size = _count(summary, "bytes_restored", required=True)
        except ValueError:
            return None
        return RestoreCount(files, size, "summary")
    return RestoreCount(verified, None, "verify") if verified is not None else None


def version(stdout: bytes) -> tuple[int, int, int] | None:
    match = re.search(r"restic (\d+)\.(\d+)\.(\d+)", stdout.decode("utf-8", "replace"))
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


__all__: Sequence[str] = (
    "ResticOutputInvalid",
    "RestoreCount",
    "backup_summary",
    "check_outcome",
    "forgotten",
    "json_line",
    "lock",
    "lock_ids",
    "nodes",
    "restore_count",
    "snapshots",
    "stats_size",
    "unreadable_items",
)
