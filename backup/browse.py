"""Browsing a repository without restoring: one snapshot's files (`ls`), files by name (`find`).

Each lookup is one restic run (one repository open): `snapshots --json SPEC` resolves a snapshot
id, prefix or `latest`; `ls --json SPEC` prints the snapshot itself as its first line, so a
listing resolves and lists in one run. restic answers an unknown or ambiguous id with exit 0,
an empty answer and an "Ignoring ..." line on stderr: that is turned into a clear error here,
never into an empty listing.

File names: restic stores a name's bytes as they are, but its JSON replaces bytes that are not
UTF-8 with U+FFFD (Go's encoding/json), so a GB18030 name from a legacy Linux share arrives
as "\ufffd\ufffd.txt". When that happens the plain listing (`ls` / `find` without --json, which
prints the raw bytes one per line, in the same order) is read once more and each damaged name
is taken from it, shown decoded as GB18030 (the Chinese legacy encoding) when it decodes, else
escaped (`\\xd6`). A name that cannot be matched keeps its U+FFFD and says so (`lossy`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from backup import parse
from backup.errors import ResticFailed
from backup.model import Node, Snapshot
from backup.restic import Restic
from common.frozen import frozen

_REPLACED = "\ufffd"
_RUNS = re.compile(_REPLACED + "+")
_IGNORING = re.compile(r'Ignoring "[^"]*": (.*)')


class SnapshotNotFound(ResticFailed):
    """No snapshot (or more than one) matches the id the user gave."""


@frozen
class Entry:
    """One file or directory of a snapshot: its name as shown (and the raw bytes when not UTF-8), type,
    size in bytes and mtime (Unix time)."""

    path: str  # what to show: UTF-8, or the raw name decoded as GB18030, or escaped bytes
    type: str
    size: int
    mtime: float
    encoding: str = "utf-8"  # utf-8 | gb18030 | bytes (neither: escaped) | lossy (U+FFFD kept)
    raw: bytes | None = None  # the name's bytes when they are not UTF-8

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "type": self.type, "size": self.size, "mtime": self.mtime}
        if self.encoding != "utf-8":
            out["encoding"] = self.encoding
        if self.raw is not None:
            out["path_bytes_hex"] = self.raw.hex()
        return out


@frozen
class Listing:
    """One snapshot's files, as `ls` lists them."""

    repository: str
    snapshot: Snapshot
    entries: tuple[Entry, ...]


@frozen
class Match:
    """A file `find` matched, with the repository and snapshot it is in."""

    repository: str
    snapshot_id: str
    entry: Entry


def _not_found(restic: Restic, spec: str, stderr: bytes) -> SnapshotNotFound:
    said = _IGNORING.search(stderr.decode("utf-8", "replace"))
    why = said.group(1) if said else "no matching snapshot"
    return SnapshotNotFound(
        restic.repo.name,
        f"snapshot {spec!r}: {why}; list them with `hostward backup snapshots` / 找不到该快照",
    )


def find_snapshot(restic: Restic, spec: str) -> Snapshot:
    """The snapshot `spec` names (an id, a unique id prefix, or `latest`): one restic run."""
    if not spec or spec.startswith("-"):
        raise SnapshotNotFound(restic.repo.name, f"snapshot {spec!r} is not an id / 快照编号无效")
    result, _ = restic.run(("snapshots", "--json", "--no-lock", "--", spec))
    found = parse.snapshots(result.stdout, restic.repo.name)
    if len(found) != 1:
        raise _not_found(restic, spec, result.stderr)
    return found[0]


def list_snapshot(
    restic: Restic, spec: str, paths: Sequence[str] = (), recursive: bool = False, names: bool = True
) -> Listing:
    """The snapshot `spec` names and its nodes (in the directories `paths` if given, and below
    them if `recursive`): one restic run, and a second only when a name is not UTF-8 and
    `names` (exact names) are wanted, not only counts."""
    if not spec or spec.startswith("-"):
        raise SnapshotNotFound(restic.repo.name, f"snapshot {spec!r} is not an id / 快照编号无效")
    deep = ("--recursive",) if recursive and paths else ()
    args = ("ls", "--json", "--no-lock", *deep, "--", spec, *paths)
    result, _ = restic.run(args, timeout=restic.timeout * 4)
    snapshot: Snapshot | None = None
    nodes: list[Node] = []
    for line in result.stdout.splitlines():
        item = parse.json_line(line)
        if item is None:
            continue
        if item.get("struct_type") == "snapshot" and snapshot is None:
            snapshot = parse.snapshot(item, restic.repo.name)
        elif item.get("struct_type") == "node":
            nodes.append(parse.node(item, restic.repo.name))
    if snapshot is None:
        raise _not_found(restic, spec, result.stderr)
    if paths and not nodes:
        raise ResticFailed(
            restic.repo.name,
            f"snapshot {snapshot.short_id} holds none of {list(paths)} (paths as `backup ls` shows them) "
            "/ 快照中没有该路径",
        )
    entries = [Entry(n.path, n.type, n.size, n.mtime) for n in nodes]
    if names and any(_REPLACED in e.path for e in entries):
        plain, _ = restic.run(("ls", "--no-lock", *deep, "--", spec, *paths), timeout=restic.timeout * 4)
        lines = plain.stdout.split(b"\n")
        if lines and lines[0].startswith(b"snapshot "):
            lines = lines[1:]
        entries = _repaired(entries, [ln for ln in lines if ln])
    return Listing(restic.repo.name, snapshot, tuple(entries))


def find(restic: Restic, pattern: str, snapshot: str = "") -> tuple[Match, ...]:
    """Files and directories whose name matches `pattern` (restic's glob; `*` for any run of
    characters, case-sensitive) in every snapshot, or only in `snapshot`."""
    if not pattern:
        raise ResticFailed(restic.repo.name, "an empty pattern matches nothing / 搜索模式为空")
    only = ("--snapshot", snapshot) if snapshot else ()
    patterns = _patterns(pattern)
    result, _ = restic.run(
        ("find", "--json", "--no-lock", *only, "--", *patterns), timeout=restic.timeout * 4
    )
    if snapshot and result.stdout.strip() in (b"", b"[]") and b"Ignoring" in result.stderr:
        raise _not_found(restic, snapshot, result.stderr)
    data = parse.json_document(result.stdout, restic.repo.name, "find")
    if not isinstance(data, list):
        raise parse.ResticOutputInvalid(restic.repo.name, "restic find did not print a JSON list")
    groups: list[tuple[str, list[Entry]]] = []
    for group in data:
        if not isinstance(group, dict) or not isinstance(group.get("snapshot"), str):
            raise parse.ResticOutputInvalid(restic.repo.name, "restic find: a group without a snapshot id")
        matches = group.get("matches")
        if not isinstance(matches, list):
            raise parse.ResticOutputInvalid(restic.repo.name, "restic find: a group without matches")
        if not all(isinstance(m, dict) for m in matches):
            raise parse.ResticOutputInvalid(restic.repo.name, "restic find: a match that is not an object")
        nodes = [parse.node(m, restic.repo.name) for m in matches]
        groups.append((group["snapshot"], [Entry(n.path, n.type, n.size, n.mtime) for n in nodes]))
    if any(_REPLACED in e.path for _sid, entries in groups for e in entries):
        plain, _ = restic.run(("find", "--no-lock", *only, "--", *patterns), timeout=restic.timeout * 4)
        blocks = _find_blocks(plain.stdout)
        if len(blocks) == len(groups):
            groups = [
                (sid, _repaired(entries, block)) for (sid, entries), block in zip(groups, blocks, strict=True)
            ]
        else:
            groups = [(sid, _repaired(entries, [])) for sid, entries in groups]
    return tuple(Match(restic.repo.name, sid, e) for sid, entries in groups for e in entries)


def _patterns(pattern: str) -> tuple[str, ...]:
    """The pattern, and on POSIX its GB18030 spelling too when that differs: restic compares
    name bytes, and a legacy share's Chinese names are GB18030 bytes, not UTF-8."""
    if os.name != "posix":
        return (pattern,)
    try:
        legacy = pattern.encode("gb18030")
    except UnicodeEncodeError:
        return (pattern,)
    alternative = os.fsdecode(legacy)
    return (pattern,) if legacy == pattern.encode("utf-8", "surrogateescape") else (pattern, alternative)


def _find_blocks(stdout: bytes) -> list[list[bytes]]:
    """The plain `restic find` output: a "Found matching entries in snapshot ..." line, then
    one raw path per line, per snapshot."""
    blocks: list[list[bytes]] = []
    for line in stdout.split(b"\n"):
        if line.startswith(b"Found matching entries in snapshot "):
            blocks.append([])
        elif line and blocks:
            blocks[-1].append(line)
    return blocks


def _repaired(entries: Sequence[Entry], raw_lines: Sequence[bytes]) -> list[Entry]:
    """Each name restic's JSON damaged, taken from the raw line in the same place when that line
    is the same name (bytes that are not UTF-8 aside); else kept, marked lossy."""
    usable = len(raw_lines) == len(entries)
    out: list[Entry] = []
    for i, entry in enumerate(entries):
        if _REPLACED not in entry.path:
            out.append(entry)
            continue
        raw = raw_lines[i] if usable else None
        if raw is None or _squash(raw.decode("utf-8", "replace")) != _squash(entry.path):
            out.append(Entry(entry.path, entry.type, entry.size, entry.mtime, "lossy"))
            continue
        shown, encoding = _shown(raw)
        out.append(Entry(shown, entry.type, entry.size, entry.mtime, encoding, raw))
    return out


def _squash(text: str) -> str:
    """Runs of U+FFFD as one: Go replaces each bad byte, Python each bad sequence."""
    return _RUNS.sub(_REPLACED, text)


def _shown(raw: bytes) -> tuple[str, str]:
    """Each path component decoded on its own (a UTF-8 parent may hold a GB18030 name)."""
    parts: list[str] = []
    encoding = "gb18030"
    for part in raw.split(b"/"):
        try:
            parts.append(part.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        try:
            parts.append(part.decode("gb18030"))
        except UnicodeDecodeError:
            parts.append(part.decode("ascii", "backslashreplace"))
            encoding = "bytes"
    return "/".join(parts), encoding
