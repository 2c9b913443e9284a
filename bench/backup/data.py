"""The benchmark's data set: about 1 GiB of synthetic files, generated once and reused.

Many small files (half text, half random) and a few large ones (half random): restic's
compression helps on half of it, as on real medical-record shares with scans beside text.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

SMALL_FILES = 30_000
LARGE_FILES = 6
LARGE_SIZE = 96 * 1024 * 1024


def work_dir() -> Path:
    root = os.environ.get("HOSTWARD_BENCH_DIR") or str(
        Path(__file__).resolve().parents[1] / ".work" / "backup"
    )
    return Path(root)


def generate(source: Path, seed: int = 7) -> int:
    """Write the data set once; returns its size in bytes."""
    marker = source / ".complete"
    if not marker.exists():
        shutil.rmtree(source, ignore_errors=True)
        rng = random.Random(seed)
        text = ("患者 记录 patient record 2026 " * 64).encode()
        for i in range(SMALL_FILES):
            folder = source / "small" / f"d{i % 300:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            size = rng.randint(1024, 31 * 1024)
            body = os.urandom(size) if i % 2 else (text * (size // len(text) + 1))[:size]
            (folder / f"文件{i:05d}.dat").write_bytes(body)
        for i in range(LARGE_FILES):
            with open(source / f"large{i}.bin", "wb") as fh:
                for _ in range(LARGE_SIZE // (8 << 20)):
                    chunk = (
                        os.urandom(8 << 20)
                        if i % 2 == 0
                        else (text * ((8 << 20) // len(text) + 1))[: 8 << 20]
                    )
                    fh.write(chunk)
        marker.write_text("ok")
    return sum(p.stat().st_size for p in source.rglob("*") if p.is_file())


def change_one_percent(source: Path, total: int, seed: int = 11) -> int:
    rng = random.Random(seed)
    files = sorted((source / "small").rglob("*.dat"))
    changed = 0
    for path in rng.sample(files, len(files) // 100):
        data = os.urandom(path.stat().st_size)
        path.write_bytes(data)
        changed += len(data)
    with open(source / "large0.bin", "r+b") as fh:
        want = max(0, total // 100 - changed)
        fh.seek(LARGE_SIZE // 2)
        fh.write(os.urandom(want))
        changed += want
    return changed


def warm(source: Path) -> None:
    for path in source.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                while fh.read(1 << 22):
                    pass
