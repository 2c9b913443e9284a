"""`python -m bench.fuzz [SUBSTRING ...]`: the long fuzz campaign, one pytest run per file.

Every tests/**/test_fuzz_*.py (found when it runs, so a new fuzz file joins without a change
here; SUBSTRINGs keep only the files whose path contains one) runs with
HYPOTHESIS_PROFILE=bench (tests/conftest.py: 20,000 examples per target, random seeds), in a
fresh process, one file at a time. Hypothesis's own statistics give, per target, the examples
run and the seconds spent; they are printed as a table.

Within budget (exit 0) when every file passes: no falsifying example, no error, every target
reported, each file inside FILE_TIMEOUT. A failure prints pytest's output, with the falsifying
example Hypothesis shrank.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILE_TIMEOUT = 3600.0  # seconds for one file; a hang is a failure, not a stuck bench
_TARGET = re.compile(r"^(\S+\.py::\S+):$")
_PHASE = re.compile(r"during (\w+) phase \(([\d.]+) seconds\)")
_COUNTS = re.compile(r"(\d+) passing(?: examples)?, (\d+) failing(?: examples)?,? (?:and )?(\d+) invalid")
_STOPPED = re.compile(r"Stopped because (.+)$")


@dataclass
class Target:
    name: str
    examples: int = 0  # passing + failing, over every phase
    invalid: int = 0
    seconds: float = 0.0
    stopped: str = ""


def fuzz_files(root: Path, wanted: list[str]) -> list[Path]:
    found = sorted(p for p in (root / "tests").rglob("test_fuzz_*.py") if p.is_file())
    if wanted:
        found = [p for p in found if any(w in str(p.relative_to(root)) for w in wanted)]
    return found


def parse_statistics(output: str) -> list[Target]:
    """Targets from `pytest --hypothesis-show-statistics` output."""
    targets: list[Target] = []
    for raw in output.splitlines():
        line = raw.strip()
        if match := _TARGET.match(line):
            targets.append(Target(match.group(1)))
        elif not targets:
            continue
        elif match := _PHASE.search(line):
            targets[-1].seconds += float(match.group(2))
        elif match := _COUNTS.search(line):
            targets[-1].examples += int(match.group(1)) + int(match.group(2))
            targets[-1].invalid += int(match.group(3))
        elif match := _STOPPED.search(line):
            targets[-1].stopped = match.group(1)
    return targets


def run_file(path: Path) -> tuple[bool, list[Target], float, str]:
    env = {**os.environ, "HYPOTHESIS_PROFILE": "bench"}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics",
            str(path.relative_to(ROOT))]  # fmt: skip
    started = time.monotonic()
    try:
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=FILE_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else ""
        return False, [], time.monotonic() - started, f"timed out after {FILE_TIMEOUT:.0f}s\n{out}"
    took = time.monotonic() - started
    targets = parse_statistics(done.stdout)
    ok = done.returncode == 0 and bool(targets) and all(t.examples > 0 for t in targets)
    return ok, targets, took, done.stdout + done.stderr


def main(argv: list[str] | None = None) -> int:
    files = fuzz_files(ROOT, argv or [])
    if not files:
        print("no tests/**/test_fuzz_*.py found")
        return 1
    print(f"{len(files)} fuzz files, profile bench (tests/conftest.py)")
    print(f"{'target':<100} {'examples':>9} {'invalid':>8} {'seconds':>8} {'ex/s':>8}")
    worst = 0
    total_examples, total_seconds = 0, 0.0
    for path in files:
        ok, targets, took, output = run_file(path)
        for t in targets:
            rate = t.examples / t.seconds if t.seconds else float("nan")
            print(f"{t.name:<100} {t.examples:>9} {t.invalid:>8} {t.seconds:>8.1f} {rate:>8.0f}")
            total_examples += t.examples
        total_seconds += took
        print(f"  {path.relative_to(ROOT)}: {'ok' if ok else 'FAILED'} in {took:.1f}s", flush=True)
        if not ok:
            worst = 1
            print(output[-8000:])
    print(f"total: {total_examples} examples in {total_seconds:.0f}s over {len(files)} files")
    return worst
