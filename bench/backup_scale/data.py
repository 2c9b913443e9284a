"""The scale benchmark's source: unique, realistically compressible files, written fast.

Every byte is fresh (no file repeats another, so restic's deduplication cannot shrink the
work) and no file is sparse. Half of the bytes are random (scans, archives), half are text-like:
random bytes mapped onto 16 letters and spaces (about 4 bits of entropy per byte, so restic's
zstd halves them). Sizes: 10 % in small files (4-64 KiB), 60 % in medium (256 KiB-4 MiB),
30 % in large (64-256 MiB), as on a file server of scans and records.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

_TEXT = bytes.maketrans(bytes(range(256)), (b"etaoin shrdlucmf" * 16))
_BLOCK = 4 << 20


def _body(size: int, text: bool) -> bytes:
    data = os.urandom(size)
    return data.translate(_TEXT) if text else data


def _write(path: Path, size: int, text: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            step = min(left, _BLOCK)
            fh.write(_body(step, text))
            left -= step


def generate(source: Path, total: int, seed: int = 5) -> tuple[int, int]:
    """Write about `total` bytes under `source` once (a marker records the size); returns
    (bytes, files)."""
    marker = source / f".complete-{total}"
    if marker.exists():
        files = [p for p in source.rglob("*") if p.is_file() and p != marker]
        return sum(p.stat().st_size for p in files), len(files)
    rng = random.Random(seed)
    written = count = 0
    for share, low, high, folder in (
        (0.10, 4 << 10, 64 << 10, "records"),
        (0.60, 256 << 10, 4 << 20, "documents"),
        (0.30, 64 << 20, 256 << 20, "scans"),
    ):
        budget = int(total * share)
        while budget > 0:
            size = min(budget, rng.randint(low, min(high, max(low, total // 20))))
            _write(source / folder / f"d{count % 97:02d}" / f"病历-{count:06d}.dat", size, count % 2 == 0)
            budget -= size
            written += size
            count += 1
    marker.write_text("ok")
    return written, count


def change(source: Path, total: int, fraction: float, seed: int) -> int:
    """A night's change of about `fraction` of `total`: half as new files, half as rewritten
    regions of existing files (in place, same size); returns the bytes changed."""
    rng = random.Random(seed)
    want = int(total * fraction)
    added = 0
    night = source / "new" / f"night-{seed}"
    while added < want // 2:
        size = min(want // 2 - added, rng.randint(64 << 10, 2 << 20))
        _write(night / f"新文件-{added:012d}.dat", size, rng.random() < 0.5)
        added += size
    existing = sorted(p for p in source.rglob("*.dat") if "new" not in p.parts)
    changed = 0
    while changed < want - added and existing:
        path = rng.choice(existing)
        size = path.stat().st_size
        length = min(size, want - added - changed, 8 << 20)
        offset = rng.randint(0, size - length) if size > length else 0
        with open(path, "r+b") as fh:
            fh.seek(offset)
            fh.write(_body(length, rng.random() < 0.5))
        changed += length
    return added + changed
