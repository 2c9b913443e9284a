"""Full disaster-recovery drills (ROOM-2, BAK-5): restore a whole snapshot and prove every file.

The sample drill (backup/drill.py) proves that files come back; only a whole restore says how
long a dead server takes to come back. A full drill:

1. lists the snapshot (`restic ls --json`): every file node, its size; their sum is what the
   restore will write;
2. refuses before writing anything when the target's filesystem has not that much free room
   plus a margin (`needed_bytes`): a clear error, nothing left behind;
3. restores the snapshot into a fresh scratch directory under the target with
   `restic restore --verify`: restic decrypts every blob (each is authenticated, so a
   flipped byte in a pack fails the restore) and then reads every restored file back against
   the snapshot's blob hashes (SHA-256). Our own SHA-256 of each file would read every byte a
   third time and compare it with the same hashes restic already compared: slower, not more
   honest, so it is not done;
4. walks the scratch tree as bytes and compares it with the listing: every listed file is
   there with its size, and nothing else (`compare_tree`). A restore that "succeeds" with a
   file missing or short fails here;
5. removes the scratch directory (also after a failure) and reports the time to restore
   (restore plus restic's read-back), bytes, file count and throughput.

A name that is not UTF-8 is spelt by restic's JSON with one U+FFFD per stray byte (Go's
encoder); the walk spells restored names the same way, so the comparison is exact up to that
spelling (two names differing only in stray bytes count as a pair, each with its size).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from backup.drill_full_result import FullDrillResult
from backup.errors import BackupError, Exit, NoSpace, RestoreRefused
from backup.model import Node
from backup.plan import Plan
from backup.restic import Repository
from backup.restore import resolve_snapshot, restic_path
from collectors.system.runner import Runner

MARGIN_BYTES = 64 * 1024 * 1024  # directories, metadata, restic's temporary files
MARGIN_RATIO = 0.02
_SCRATCH_PREFIX = "hostward-drill-full-"
_IGNORED = re.compile(r"ignoring error for (.+?): (.+)$")


def needed_bytes(snapshot_bytes: int) -> int:
    """Free room a restore of `snapshot_bytes` asks for: the data plus 2 % and 64 MiB."""
    return snapshot_bytes + int(snapshot_bytes * MARGIN_RATIO) + MARGIN_BYTES


def run_full_drill(
    plan: Plan,
    runner: Runner,
    repo: Repository,
    target: str,
    *,
    snapshot: str = "latest",
    timeout: float = 24 * 3600.0,
) -> FullDrillResult:
    """Restore the whole of `snapshot` from `repo` into a scratch directory under `target`,
    verify it, remove it; failures are results (ok=False) naming the reason."""
    restic = plan.restic(repo, runner)
    started = time.time()
    where = restic_path(target)
    base = FullDrillResult(repo.name, False, started, target=where)
    try:
        snap = resolve_snapshot(restic, snapshot)
        listed = [n for n in restic.ls(snap.id) if n.type == "file"]
        size = sum(n.size for n in listed)
        base = FullDrillResult(
            repo.name, False, started, snap.id, snap.time, files=len(listed), bytes=size, target=where
        )
        refuse_live_target(where, plan.sources)
        Path(where).mkdir(parents=True, exist_ok=True)
        check_room(repo.name, where, size)
        scratch = tempfile.mkdtemp(prefix=_SCRATCH_PREFIX, dir=where)
        try:
            t0 = time.monotonic()
            argv = ("restore", "--json", snap.id, "--target", scratch, "--verify")
            done, kind = restic.run(argv, timeout=timeout, allow=(Exit.FATAL,))
            duration = time.monotonic() - t0
            problems = restore_errors(done.stderr) if kind is Exit.FATAL else []
            problems = problems or compare_tree(os.fsencode(scratch), listed)
            if kind is Exit.FATAL and not problems:
                problems = [f"restic restore failed: {done.stderr_tail(300)}"]
        finally:
            remove_tree(scratch)
    except RestoreRefused as exc:
        return _failed(base, exc.detail, "refused")
    except BackupError as exc:
        return _failed(base, exc.detail, exc.kind.value)
    except OSError as exc:
        return _failed(base, f"scratch directory {where}: {exc}", "scratch")
    if problems:
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        return _failed(base, "; ".join(problems[:5]) + more, "restore" if kind is Exit.FATAL else "verify")
    return FullDrillResult(repo.name, True, started, snap.id, snap.time, duration, len(listed), size, where)


def _failed(base: FullDrillResult, error: str, kind: str) -> FullDrillResult:
    return FullDrillResult(
        base.repository, False, base.started, base.snapshot_id, base.snapshot_time, 0.0, base.files,
        base.bytes, base.target, error, kind,
    )  # fmt: skip


def refuse_live_target(where: str, sources: Sequence[str]) -> None:
    """A drill never restores into (or over) the data it protects: the scratch tree would be
    backed up, and a full disk there would stop the application."""
    target = Path(os.path.realpath(where))
    for src in sources:
        live = Path(os.path.realpath(restic_path(src)))
        if target == live or live in target.parents or target in live.parents:
            raise RestoreRefused(
                "drill", f"the drill target {where} overlaps the backup source {src}; choose a scratch "
                "disk outside the backed-up data / 演练目标与备份源重叠",
            )  # fmt: skip


def check_room(repository: str, where: str, size: int) -> None:
    """Raise NoSpace when the filesystem holding `where` cannot take a restore of `size` bytes."""
    free = shutil.disk_usage(where).free
    need = needed_bytes(size)
    if free < need:
        raise NoSpace(
            repository,
            f"the drill target {where} has {free} bytes free; restoring the snapshot needs {need} "
            f"({size} bytes of files plus a margin): free space there or pass --target on a larger "
            f"disk / 演练目标空间不足",
        )


def remove_tree(path: str) -> None:
    """Remove the scratch tree, making read-only directories (restored as such) writable first."""

    def retry(func: Any, failed: str, _exc: Any) -> None:
        parent = os.path.dirname(failed)
        os.chmod(parent, stat.S_IRWXU)
        if os.path.isdir(failed) and not os.path.islink(failed):
            os.chmod(failed, stat.S_IRWXU)
        func(failed)

    shutil.rmtree(path, onerror=retry)


def restore_errors(stderr: bytes) -> list[str]:
    """The files restic could not restore or verify, as it names them on stderr ("ignoring
    error for /p: ciphertext verification failed"; --verify's "Unexpected content")."""
    out = []
    for line in stderr.decode("utf-8", "replace").splitlines():
        found = _IGNORED.search(line)
        if found:
            out.append(f"{found.group(1)}: {found.group(2)}")
        elif "nexpected content" in line or "error verifying" in line.lower():
            out.append(line.strip())
    return out


def go_spelling(name: bytes) -> str:
    """A path as restic's JSON spells it: UTF-8, each byte that is not part of valid UTF-8 as
    one U+FFFD (Go's encoder), never Python's one-U+FFFD-per-run."""
    text = name.decode("utf-8", "surrogateescape")
    return "".join("\ufffd" if "\udc80" <= ch <= "\udcff" else ch for ch in text)


def compare_tree(scratch: bytes, listed: Iterable[Node]) -> list[str]:
    """What differs between the restored tree and the listing (empty: every listed file is
    there with its size, and nothing else was written)."""
    restored: Counter[tuple[str, int]] = Counter()
    for dirpath, _dirs, names in os.walk(scratch):
        for name in names:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                rel = b"/" + os.path.relpath(full, scratch).replace(os.sep.encode(), b"/")
                restored[(go_spelling(rel), st.st_size)] += 1
    wanted = Counter((n.path, n.size) for n in listed)
    problems = [f"{path}: missing or not {size} bytes" for (path, size) in sorted(wanted - restored)]
    problems += [
        f"{path}: restored ({size} bytes), not in the snapshot" for (path, size) in sorted(restored - wanted)
    ]
    return problems
