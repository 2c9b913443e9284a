"""Restore drills (BAK-5): restore a sample into a scratch directory and prove it.

A drill picks the newest snapshot of a repository, samples files (bounded by count and bytes),
restores them with `restic restore --verify` (restic compares every restored blob with the
snapshot), checks each size against the snapshot listing, and compares SHA-256 with the live
source where the live file is unchanged since the snapshot (same size and mtime). A live file
that changed since is counted, not judged. The time to restore is recorded.

File names are bytes. A name that is not UTF-8 (GBK from old Windows tools, Latin-1) is spelt
by restic's JSON with U+FFFD for each stray byte, which names no file; so the sample is
restored by patterns in which each U+FFFD matches one byte (`restore_pattern`), and the
scratch tree and the live files are then compared by walking the scratch tree as bytes: no
verdict depends on how restic's JSON spells a name. Paths in reports show stray bytes as \\xNN.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import stat
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from backup.errors import BackupError
from backup.model import Node
from backup.plan import Plan
from backup.restic import Repository
from backup.restore import escape_pattern, resolve_snapshot
from backup.results import DrillFile, DrillResult
from collectors.system.runner import Runner

_BAD = {"size_mismatch", "live_differs", "missing"}
_REPLACEMENT = "\ufffd"  # how restic's JSON spells each byte of a name that is not UTF-8


def run_drill(
    plan: Plan,
    runner: Runner,
    repo: Repository,
    *,
    sample_files: int,
    sample_bytes: int,
    scratch_dir: str = "",
    timeout: float = 3600.0,
    rng: random.Random | None = None,
) -> DrillResult:
    """One drill against `repo`; failures are results (ok=False) naming the reason."""
    restic = plan.restic(repo, runner)
    started = time.time()
    try:
        snapshot = resolve_snapshot(restic, "latest")
        nodes = [n for n in restic.ls(snapshot.id) if n.type == "file"]
        sample = _sample(nodes, sample_files, sample_bytes, rng or random.Random())  # noqa: S311 (sampling, not secrets)
        if not sample:
            return DrillResult(repo.name, False, snapshot.id, started, error="the snapshot holds no file")
        if scratch_dir:
            Path(scratch_dir).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="hostward-drill-", dir=scratch_dir or None) as tmp:
            t0 = time.monotonic()
            restic.restore(
                snapshot.id, tmp, includes=sorted({restore_pattern(n.path) for n in sample}), timeout=timeout
            )
            duration = time.monotonic() - t0
            checked = _judge_all(os.fsencode(tmp), sample)
    except BackupError as exc:
        return DrillResult(repo.name, False, started=started, error=exc.detail, error_kind=exc.kind.value)
    bad = [c for c in checked if c.verdict in _BAD]
    return DrillResult(
        repository=repo.name,
        ok=not bad,
        snapshot_id=snapshot.id,
        started=started,
        duration=duration,
        files=len(checked),
        bytes=sum(c.size for c in checked),
        error="; ".join(f"{c.path}: {c.verdict}" for c in bad[:5]),
        checked=checked,
    )


def restore_pattern(listed: str) -> str:
    """A restic include pattern for a path as `restic ls --json` spells it.

    restic's JSON (Go's encoder) writes each byte of a name that is not UTF-8 (a GBK name from
    an old Windows tool, Latin-1, random bytes) as U+FFFD, so that spelling names no file. Each
    U+FFFD becomes `?`, which restic matches against one such byte (Go decodes an invalid byte
    as one character); the rest is literal. A pattern may thus restore a sibling whose name
    differs only in those bytes: every restored file is judged, so that costs a little time,
    never a wrong verdict.
    """
    return escape_pattern(listed).replace(_REPLACEMENT, "?")


def _sample(nodes: Sequence[Node], count: int, limit: int, rng: random.Random) -> list[Node]:
    files = list(nodes)
    rng.shuffle(files)
    chosen: list[Node] = []
    total = 0
    for n in files:
        if len(chosen) >= count:
            break
        if total + n.size > limit and chosen:
            continue
        chosen.append(n)
        total += n.size
    return chosen


def _judge_all(tmp: bytes, sample: Sequence[Node]) -> tuple[DrillFile, ...]:
    """Walk the scratch tree as bytes; judge every restored file against the live file at the
    same bytes path. A sampled node that no restored file answers (by its listed name, with
    each U+FFFD standing for one byte, and its size) is `missing`."""
    restored: dict[bytes, os.stat_result] = {}
    for dirpath, _dirs, names in os.walk(tmp):
        for name in names:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                restored[b"/" + os.path.relpath(full, tmp).replace(os.sep.encode(), b"/")] = st
    checked: list[DrillFile] = []
    for node in sample:
        match = _listed_name(node.path)
        hits = [p for p in restored if match.fullmatch(os.fsdecode(p))]
        if not hits:
            checked.append(DrillFile(node.path, node.size, "", "missing"))
            continue
        if all(restored[p].st_size != node.size for p in hits):
            checked.append(DrillFile(node.path, node.size, "", "size_mismatch"))
    for path, st in sorted(restored.items()):
        checked.append(_judge(tmp + path, path, st))
    return tuple(checked)


def _listed_name(listed: str) -> re.Pattern[str]:
    """Matches a restored path (decoded with surrogateescape, one character per stray byte)
    that `restic ls --json` would spell as `listed`."""
    return re.compile("".join("[^/]" if ch == _REPLACEMENT else re.escape(ch) for ch in listed))


def _judge(restored: bytes, path: bytes, st: os.stat_result) -> DrillFile:
    shown = path.decode("utf-8", "backslashreplace")
    digest = sha256_file(restored)
    live = _live_path(path)
    try:
        lst = os.stat(live)
    except OSError:
        return DrillFile(shown, st.st_size, digest, "live_missing")
    if lst.st_size != st.st_size or abs(lst.st_mtime - st.st_mtime) > 1e-3:
        return DrillFile(shown, st.st_size, digest, "changed_since")
    verdict = "same_as_live" if sha256_file(live) == digest else "live_differs"
    return DrillFile(shown, st.st_size, digest, verdict)


def _live_path(path: bytes) -> bytes:
    """Where a restored file lives: restic restores C:\\x as <target>/C/x on Windows."""
    if os.name == "nt" and len(path) > 2 and path[2:3] == b"/":
        return path[1:2] + b":" + path[2:]
    return path


def sha256_file(path: str | bytes) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_report(result: DrillResult, directory: Path) -> Path:
    """Write the drill report (JSON) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(result.started or time.time()))
    path = directory / f"drill-{stamp}-{result.repository}.json"
    path.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return path
