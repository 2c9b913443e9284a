"""Checking the journal's chain (`Journal.verify`): every link, the head, and the set-asides.

Only reads: no file is created and no lock taken that needs write access, so `hostward journal
verify` works on a read-only copy (a mounted backup, an auditor's USB stick).

What counts as intact: entries 1..N each linking to the one before, and the head (kept apart in
`journal.head`) and its copy in the state database (agent/journal_mirror.py) each naming an entry
the file holds: a journal shorter than either head, or missing while either exists, is not. The
copy may lag (its write is best effort) or be absent (a state database started afresh). Two
recorded events keep a chain intact and are reported as notes: `journal.torn_tail_quarantined`
(a line torn by a crash or a cut was set aside to a side file; if it was the entry the head
named, that one entry is the gap the event explains) and `journal.head_rebuilt` (the head was
lost and written again from the file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from common.digest import sha256
from common.frozen import frozen

GENESIS = "0" * 64
QUARANTINED = "journal.torn_tail_quarantined"
HEAD_REBUILT = "journal.head_rebuilt"
ENTRIES_MISSING = "journal.entries_missing"
_FIELDS = ("seq", "ts", "kind", "actor", "data", "prev")


def entry_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry without its `hash`."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(sha256(canonical.encode("utf-8")).hexdigest())


@frozen
class VerifyResult:
    """`ok` and the number of intact entries, or the first problem found (with its line).
    `notes`: recorded events an operator should see even when the chain is intact."""

    ok: bool
    entries: int
    problem: str = ""
    notes: tuple[str, ...] = ()


def _explained_gap(item: Mapping[str, Any], count: int) -> bool:
    """A quarantine entry that records exactly one torn entry (the one the head named) after
    entry `count`, and links to that entry's hash as the head had it."""
    data = item.get("data")
    if item.get("kind") != QUARANTINED or not isinstance(data, Mapping):
        return False
    return (
        data.get("after_seq") == count
        and data.get("head_seq") == count + 1 == item["seq"] - 1
        and data.get("head_hash") == item["prev"]
    )


def _note(item: Mapping[str, Any], where: str) -> str:
    data = item.get("data") if isinstance(item.get("data"), Mapping) else {}
    assert isinstance(data, Mapping)
    if item["kind"] == QUARANTINED:
        after, head = data.get("after_seq"), data.get("head_seq")
        held = isinstance(after, int) and head == after + 1  # the head named the torn entry
        torn = f"; it held entry {head}" if held else ""
        return (
            f"{where}: a torn tail of {data.get('size')} bytes (sha256 {data.get('sha256')}) was set "
            f"aside to {data.get('file')} at {item['ts']}{torn} / 残缺的末行已移至 {data.get('file')}"
        )
    return (f"{where}: the head was lost and rebuilt from entry {data.get('last_seq')} at {item['ts']}"
            " / 链头丢失后已重建")


def check_chain(
    lines: Iterable[tuple[int, str, bool]], head: tuple[int, str] | None, name: str, head_name: str,
    *, copy: tuple[int, str] | None = None, copy_name: str = "the copy of the head",
) -> VerifyResult:
    """`lines`: (line number, text, ends with a newline) of every non-blank line; `head`: the
    (seq, hash) kept apart, and `copy` its copy in the state database, both read *before* the
    lines (an append in between only adds entries)."""
    prev, count = GENESIS, 0
    notes: list[str] = []
    hashes: dict[int, str] = {}
    for number, raw, whole in lines:
        where = f"{name}:{number}"
        try:
            item = json.loads(raw)
            body = {k: item[k] for k in _FIELDS}
            stored = item["hash"]
        except (ValueError, KeyError, TypeError):
            if not whole:
                return VerifyResult(
                    False, count, f"{where}: a torn last line ({len(raw.encode('utf-8'))} bytes, an "
                    "interrupted write or a cut); the agent sets it aside at its next entry", tuple(notes))
            return VerifyResult(False, count, f"{where}: not a journal entry (edited or cut)", tuple(notes))
        if set(item) != {*body, "hash"}:
            return VerifyResult(False, count, f"{where}: unexpected fields (edited)", tuple(notes))
        gap = body["seq"] != count + 1 and _explained_gap(item, count)
        if body["seq"] != count + 1 and not gap:
            missing = "an entry was deleted or moved"
            if isinstance(body["seq"], int) and body["seq"] > count + 2:
                missing = f"entries {count + 1}..{body['seq'] - 1} are missing"
            return VerifyResult(
                False, count, f"{where}: seq {body['seq']} where {count + 1} was expected ({missing})",
                tuple(notes))
        if body["prev"] != prev and not gap:
            return VerifyResult(False, count, f"{where}: does not link to the entry before", tuple(notes))
        if entry_hash(body) != stored:
            return VerifyResult(
                False, count, f"{where}: hash mismatch (entry {body['seq']} was edited)", tuple(notes))
        if body["kind"] in (QUARANTINED, HEAD_REBUILT):
            notes.append(_note(item, where))
        if gap:
            hashes[count + 1] = body["prev"]
        prev, count = stored, body["seq"]
        hashes[count] = stored
    known = [(h, n) for h, n in ((head, head_name), (copy, copy_name)) if h is not None]
    known.sort(key=lambda item: item[0][0], reverse=True)  # the highest head first (stable: the file's)
    for (head_seq, _), where in known:
        if head_seq > count:
            what = f"the journal ends at entry {count}" if count else "the journal file is missing or empty"
            says = "" if where == head_name else f", says {where}"
            return VerifyResult(
                False, count, f"{what} but entry {head_seq} was written{says} (entries were cut off the end)",
                tuple(notes))
    for (head_seq, head_hash), where in known:
        if hashes.get(head_seq, GENESIS) != head_hash:
            return VerifyResult(
                False, count, f"entry {head_seq} differs from the one recorded in {where}", tuple(notes))
    if head is None and count:
        return VerifyResult(False, count, f"{head_name} is missing or unreadable", tuple(notes))
    # A head below `count` only when writing it failed after its entry was written (a full
    # disk, a crash in between, a busy state database): the next append rewrites it. The
    # chain itself is intact.
    return VerifyResult(True, count, "", tuple(notes))
