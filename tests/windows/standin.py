"""Build the stand-in restic.exe (standins/restic_standin.c) with mingw-w64, into a Wine box.

Built from source by the tests, never committed as a binary. Debian: gcc-mingw-w64-x86-64
(scripts/debian-deps.sh installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent / "standins" / "restic_standin.c"
CC = "x86_64-w64-mingw32-gcc"


def build_restic_standin(target: Path) -> Path:
    """Compile the stand-in to `target` (a path inside the box's drive_c)."""
    if shutil.which(CC) is None:
        if os.geteuid() != 0 and not Path("/etc/debian_version").exists():
            pytest.skip(f"{CC} is missing (Debian: gcc-mingw-w64-x86-64)")
        pytest.fail(f"{CC} is missing: scripts/debian-deps.sh test installs gcc-mingw-w64-x86-64")
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([CC, "-municode", "-O1", "-o", str(target), str(SOURCE)], check=True, timeout=120)
    return target
