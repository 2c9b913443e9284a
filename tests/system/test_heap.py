"""collectors/system/heap.py: with `one_arena()` called first, threads that allocate share the
main malloc arena instead of reserving one each (glibc reserves 64 MiB of address space per
arena; the memory each keeps is resident)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys, threading
from collectors.system import heap
if sys.argv[1] == "one":
    heap.one_arena()
ready, go = threading.Barrier(5), threading.Event()
def allocate():
    held = [bytes(1000 + i % 7) for i in range(2000)]  # > 512 bytes: from malloc, not pymalloc
    ready.wait()
    go.wait()
threads = [threading.Thread(target=allocate) for _ in range(4)]
for t in threads:
    t.start()
ready.wait()
reserved = 0
for line in open("/proc/self/maps"):
    fields = line.split()
    start, end = (int(x, 16) for x in fields[0].split("-"))
    if len(fields) == 5 and fields[1] == "---p" and end - start > 16 << 20:
        reserved += 1  # the unused rest of an arena's 64 MiB reservation
go.set()
print(reserved)
"""


def _arenas(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), mode],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas")
def test_threads_share_one_arena_after_one_arena() -> None:
    assert _arenas("default") >= 2  # without it, each allocating thread reserves its own
    assert _arenas("one") == 0
