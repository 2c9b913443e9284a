"""Fuzz the readers of restic's output (backup/parse.py) with Hypothesis.

Each reader gets arbitrary bytes, arbitrary JSON, and JSON shaped like restic's own with its
fields replaced by arbitrary values. The only exception allowed out is the project's typed
`ResticOutputInvalid` (a BackupError naming the repository), and nothing malformed reads as
a success: no snapshot without a 64-hex id and a time, no backup summary without a snapshot
id, no passed check without restic's "no errors were found", no restore count from silence.
Example counts come from the profiles in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from backup import parse
from backup.errors import BackupError
from backup.offline import DIRNAME, LABEL, _previous, read_label

REPO = "primary"
ID = "1" * 64

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def restic_like(template: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """`template` with any subset of its fields replaced by arbitrary values or dropped."""
    return st.fixed_dictionaries(
        {key: st.one_of(st.just(value), values) for key, value in template.items()}
    ).flatmap(
        lambda d: st.sets(st.sampled_from(sorted(d))).map(
            lambda drop: {k: v for k, v in d.items() if k not in drop}
        )
    )


SNAPSHOT = {
    "time": "2026-12-04T23:31:39.413855577Z",
    "paths": ["/srv/his"],
    "hostname": "vm",
    "id": ID,
    "short_id": ID[:8],
    "tags": ["hostward-run:x", "hostward"],
}
SUMMARY = {
    "message_type": "summary",
    "files_new": 2,
    "files_changed": 0,
    "files_unmodified": 0,
    "data_added": 2446,
    "total_files_processed": 2,
    "total_bytes_processed": 5,
    "total_duration": 0.29,
    "snapshot_id": "0c18c7a3",
}
NODE = {
    "name": "a",
    "type": "file",
    "path": "/srv/a",
    "size": 3,
    "mtime": SNAPSHOT["time"],
    "struct_type": "node",
}
LOCK = {"time": SNAPSHOT["time"], "exclusive": False, "hostname": "vm", "pid": 42}


def dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def lines(items: list[Any]) -> bytes:
    return b"\n".join(dumps(i) for i in items)


def only_typed(call: Any) -> Any:
    """Run `call`; let only the typed error out. Returns the result, or None when refused."""
    try:
        return call()
    except parse.ResticOutputInvalid as exc:
        assert isinstance(exc, BackupError) and exc.repository == REPO
        return None


@given(st.binary(max_size=300) | st.lists(restic_like(SNAPSHOT), max_size=3).map(dumps) | values.map(dumps))
def test_a_snapshot_listing_is_read_whole_or_refused_with_the_typed_error(stdout: bytes) -> None:
    found = only_typed(lambda: parse.snapshots(stdout, REPO))
    for snap in found or ():
        assert re.fullmatch(r"[0-9a-f]{64}", snap.id) and isinstance(snap.time, float)
        assert all(isinstance(p, str) for p in snap.paths + snap.tags)


def test_empty_output_is_not_an_empty_snapshot_listing() -> None:
    assert only_typed(lambda: parse.snapshots(b"", REPO)) is None
    assert only_typed(lambda: parse.snapshots(b"[]", REPO)) == ()


@given(
    st.lists(restic_like(SUMMARY) | values, max_size=3).map(lines) | st.binary(max_size=300),
    st.lists(values, max_size=3).map(lines) | st.binary(max_size=200),
    st.booleans(),
)
def test_a_backup_summary_needs_a_snapshot_id_and_counts(stdout: bytes, stderr: bytes, partial: bool) -> None:
    summary = only_typed(lambda: parse.backup_summary(stdout, stderr, REPO, partial))
    if summary is None:
        return
    assert re.fullmatch(r"[0-9a-f]{8,64}", summary.snapshot_id)
    assert min(summary.files_new, summary.bytes_added, summary.files_processed) >= 0
    assert summary.status == ("partial" if partial or summary.unreadable else "ok")


@given(
    st.lists(
        st.fixed_dictionaries({"message_type": st.just("error")}, optional={"item": values, "error": values}),
        min_size=1,
        max_size=3,
    )
)
def test_any_error_line_of_restic_makes_the_backup_partial(errors: list[dict[str, Any]]) -> None:
    summary = parse.backup_summary(dumps(SUMMARY), lines(errors), REPO, partial=False)
    assert summary.status == "partial" and len(summary.unreadable) == len(errors)


@given(restic_like(LOCK) | values)
def test_a_lock_is_read_whole_or_refused(item: Any) -> None:
    lock = only_typed(lambda: parse.lock("ab" * 32, dumps(item), REPO))
    if lock is not None:
        assert isinstance(lock.exclusive, bool) and lock.pid >= 0 and isinstance(lock.time, float)


@given(st.lists(st.text(max_size=70), max_size=4).map(lambda ids: "\n".join(ids).encode()))
def test_a_lock_listing_holds_only_lock_ids(stdout: bytes) -> None:
    ids = only_typed(lambda: parse.lock_ids(stdout, REPO))
    assert ids is None or all(re.fullmatch(r"[0-9a-f]{64}", i) for i in ids)


@given(
    st.lists(
        restic_like(NODE) | restic_like({**SNAPSHOT, "struct_type": "snapshot"}) | values, max_size=4
    ).map(lines)
    | st.binary(max_size=300)
)
def test_an_ls_listing_needs_its_snapshot_line_and_whole_nodes(stdout: bytes) -> None:
    nodes = only_typed(lambda: parse.nodes(stdout, REPO))
    if nodes is not None:
        assert b'"snapshot"' in stdout
        assert all(n.path and n.size >= 0 for n in nodes)


@given(
    restic_like({"total_size": 3966, "total_file_count": 0, "snapshots_count": 4}).map(dumps)
    | values.map(dumps)
    | st.binary(max_size=100)
)
def test_a_repository_size_is_a_count_or_refused(stdout: bytes) -> None:
    size = only_typed(lambda: parse.stats_size(stdout, REPO))
    assert size is None or (isinstance(size, int) and size >= 0)


@given(
    st.lists(
        restic_like({"tags": None, "host": "vm", "keep": [], "remove": [SNAPSHOT]}) | values, max_size=3
    ).map(dumps)
    | values.map(dumps)
)
def test_a_forget_result_is_a_count_or_refused(stdout: bytes) -> None:
    removed = only_typed(lambda: parse.forgotten(stdout, REPO))
    assert removed is None or removed >= 0


@given(
    st.booleans(), st.binary(max_size=300) | st.text(max_size=200).map(str.encode), st.binary(max_size=100)
)
def test_a_check_passes_only_when_restic_said_so_and_exited_0(
    exit_ok: bool, stdout: bytes, stderr: bytes
) -> None:
    ok, problems = parse.check_outcome(exit_ok, stdout, stderr)
    text = (stdout + b"\n" + stderr).decode("utf-8", "replace")
    if ok:
        assert exit_ok and not problems
        assert any(line.strip() == "no errors were found" for line in text.splitlines())


def test_a_silent_check_is_not_a_passed_check() -> None:
    assert parse.check_outcome(True, b"", b"") == (False, ())
    assert parse.check_outcome(True, b"load indexes\nno errors were found\n", b"")[0] is True
    assert parse.check_outcome(False, b"no errors were found\n", b"")[0] is False


@given(
    st.lists(
        restic_like({"message_type": "summary", "files_restored": 3, "bytes_restored": 10, "total_files": 3})
        | values,
        max_size=3,
    ).map(lines)
    | st.binary(max_size=200)
)
def test_a_restore_count_comes_only_from_what_restic_said(stdout: bytes) -> None:
    count = parse.restore_count(stdout)
    if count is None:
        return
    assert count.files >= 0 and (count.bytes is None or count.bytes >= 0)
    assert (b"summary" in stdout) or (b"finished verifying" in stdout)


@given(st.binary(max_size=200))
def test_arbitrary_lines_never_read_as_json_objects_unless_they_are(line: bytes) -> None:
    item = parse.json_line(line)
    assert item is None or isinstance(item, dict)


def test_deep_nesting_is_refused_with_the_typed_error_not_a_recursion_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert only_typed(lambda: parse.snapshots(deep, REPO)) is None
    assert parse.json_line(b"{" + b'"a":[' * 50_000 + b"]" * 50_000 + b"}") is None


@given(values.map(dumps) | st.binary(max_size=200))
def test_a_media_label_of_any_content_is_read_or_refused_with_the_typed_error(content: bytes) -> None:
    """MEDIA.json lives on removable media that anything may have written."""
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp) / DIRNAME
        where.mkdir()
        (where / LABEL).write_bytes(content)
        with contextlib.suppress(BackupError):
            assert isinstance(read_label(tmp), dict)
        history = _previous(where)
        assert isinstance(history, list) and all(isinstance(h, dict) for h in history)
