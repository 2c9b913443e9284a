"""`python -m bench.inventory`: `hostward inventory` on this machine, in fresh processes (start-up
and imports count, as when an officer runs it). Budget: median wall <= 2 s for each output
(table, --json, --csv). The number of packages and adapters read is printed with the figure.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 2.0
RUNS = 5
ROOT = Path(__file__).resolve().parents[2]


def once(config: Path, *flags: str) -> tuple[float, bytes]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "agent", "inventory", *flags, "-c", str(config)],
        capture_output=True, cwd=ROOT, timeout=60, check=True,
    )  # fmt: skip
    return time.monotonic() - started, done.stdout


def main() -> int:
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "hostward.yaml"
        config.write_text(f"version: 1\nstate_dir: {Path(tmp) / 'state'}\n", encoding="utf-8")
        _, out = once(config, "--json")
        sections = json.loads(out)["sections"]
        sizes = ", ".join(f"{name} {len(s['items'])}" for name, s in sections.items())
        print(f"register read: {sizes}")
        for flags in ((), ("--json",), ("--csv",)):
            walls = [once(config, *flags)[0] for _ in range(RUNS)]
            median = statistics.median(walls)
            verdict = "ok" if median <= BUDGET_SECONDS else "OVER"
            label = " ".join(flags) or "(table)"
            print(f"hostward inventory {label:7}: median {median:.2f} s, max {max(walls):.2f} s "
                  f"over {RUNS} runs (budget {BUDGET_SECONDS:g} s) {verdict}")  # fmt: skip
            worst = max(worst, int(median > BUDGET_SECONDS))
    return worst
