"""Restore drills (BAK-5): restore a sample into a scratch directory and prove it.

A drill picks the newest snapshot of a repository, samples files (bounded by count and bytes),
restores them with `restic restore --verify` (restic compares every restored blob with the
snapshot), checks each size against the snapshot listing, and compares SHA-256 with the live
source where the live file is unchanged since the snapshot (same size and mtime). A live file
that changed since is counted, not judged. The time to restore is recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from backup.errors import BackupError
from backup.model import Node
from backup.plan import Plan
from backup.restic import Repository
from backup.restore import escape_pattern, resolve_snapshot
from collectors.system.runner import Runner


@dataclass(frozen=True)
class DrillFile:
    path: str
    size: int
    sha256: str
    verdict: (
        str  # "same_as_live", "changed_since", "live_missing", "size_mismatch", "live_differs", "missing"
    )


@dataclass(frozen=True)
class DrillResult:
    repository: str
    ok: bool
    snapshot_id: str = ""
    started: float = 0.0
    duration: float = 0.0  # time to restore the sample, seconds
    files: int = 0
    bytes: int = 0
    error: str = ""
    error_kind: str = ""
    checked: tuple[DrillFile, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["checked"] = [asdict(f) for f in self.checked[:200]]
        return data


_BAD = {"size_mismatch", "live_differs", "missing"}


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
                snapshot.id, tmp, includes=[escape_pattern(n.path) for n in sample], timeout=timeout
            )
            duration = time.monotonic() - t0
            checked = tuple(_judge(tmp, n.path, n.size, n.mtime) for n in sample)
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


def _judge(tmp: str, path: str, size: int, mtime: float) -> DrillFile:
    restored = os.path.join(tmp, path.lstrip("/"))
    if not os.path.isfile(restored):
        return DrillFile(path, size, "", "missing")
    digest = sha256_file(restored)
    if os.path.getsize(restored) != size:
        return DrillFile(path, size, digest, "size_mismatch")
    try:
        st = os.stat(path)
    except OSError:
        return DrillFile(path, size, digest, "live_missing")
    if st.st_size != size or abs(st.st_mtime - mtime) > 1e-3:
        return DrillFile(path, size, digest, "changed_since")
    return DrillFile(path, size, digest, "same_as_live" if sha256_file(path) == digest else "live_differs")


def write_report(result: DrillResult, directory: Path) -> Path:
    """Write the drill report (JSON) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(result.started or time.time()))
    path = directory / f"drill-{stamp}-{result.repository}.json"
    path.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return path
