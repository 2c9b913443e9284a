"""`python -m bench.audit`: one full audit of this machine, and Debian's lynis as a reference.

Measured in fresh processes (so imports and start-up count, as for `hostward audit`):

1. the full audit of the policy library on the live host as an `insurance_terminal`, the role
   with the most checks, including the isolation probes: canaries on closed loopback ports and
   a private target on a loopback listener (traffic never leaves 127.0.0.1), all concurrent
   under one 0.5 s timeout. Budget: wall <= 1 s. Peak RSS of the child is reported;
2. the same as an `office_pc` (no network probes);
3. `lynis audit system --quick` wall time (Debian lynis), once, logs in a temp directory;
4. Lynis and hostward side by side on this host and two disk trees (bench.audit.peers): the
   agreement table of the controls both cover, disagreements explained in docs/AUDIT-PEERS.md.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 1.0
RUNS = 5
ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import json, sys, time
started = time.monotonic()
from policies.audit import run
from policies.config import AuditConfig, IsolationConfig
from common.schema import Duration
iso = IsolationConfig(canaries=tuple(sys.argv[2].split(",")), private_targets=(sys.argv[3],),
                      timeout=Duration(0.5))
report = run(AuditConfig(isolation=iso), sys.argv[1]).report
counts = {}
for r in report.results:
    counts[r.status] = counts.get(r.status, 0) + 1
print(json.dumps({"in_process_seconds": time.monotonic() - started, "counts": counts}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def audit_once(role: str, canaries: str, private: str) -> tuple[float, float, dict[str, object]]:
    """(wall seconds, peak RSS MiB, child's report) for one audit in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, role, canaries, private],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    wall = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak_kib, before) / 1024, json.loads(out.stdout)


def lynis_wall() -> float | None:
    lynis = shutil.which("lynis") or ("/usr/sbin/lynis" if os.path.exists("/usr/sbin/lynis") else None)
    if lynis is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        subprocess.run(
            [
                lynis,
                "audit",
                "system",
                "--quick",
                "--no-colors",
                "--logfile",
                f"{tmp}/lynis.log",
                "--report-file",
                f"{tmp}/report.dat",
            ],
            capture_output=True,
            timeout=900,
            check=False,
        )
        return time.monotonic() - started


def main() -> int:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    private = f"127.0.0.1:{listener.getsockname()[1]}"
    canaries = ",".join(f"127.0.0.1:{_free_port()}" for _ in range(4))
    worst = 0
    try:
        for role in ("insurance_terminal", "office_pc"):
            runs = [audit_once(role, canaries, private) for _ in range(RUNS)]
            walls = sorted(r[0] for r in runs)
            inproc = statistics.median(float(r[2]["in_process_seconds"]) for r in runs)  # type: ignore[arg-type]
            rss = max(r[1] for r in runs)
            median = statistics.median(walls)
            ok = median <= BUDGET_SECONDS
            worst = max(worst, 0 if ok else 1)
            print(
                f"audit as {role}: wall median {median:.3f} s (min {walls[0]:.3f}, max {walls[-1]:.3f}), "
                f"in-process {inproc:.3f} s, peak RSS {rss:.1f} MiB, results {runs[0][2]['counts']} "
                f"[budget {BUDGET_SECONDS:.1f} s: {'ok' if ok else 'OVER'}]",
                flush=True,
            )
    finally:
        listener.close()
    wall = lynis_wall()
    if wall is None:
        print("lynis: not installed (Debian package lynis); no reference figure")
    else:
        print(f"lynis audit system --quick: wall {wall:.1f} s (reference)")
    from bench.audit import peers

    peers.main()
    return worst


if __name__ == "__main__":
    sys.exit(main())
