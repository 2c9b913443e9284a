"""`python -m bench.windows`: the Windows bundle (`make windows-bundle`) measured under Wine.

1. the zip's size and its unpacked size (what lands in C:\\Program Files\\hostward);
2. cold start: `hostward audit` (office_pc, the Windows checks against Wine's registry) and
   `hostward --version`, each in a fresh Windows process through the bundle's launcher, wall
   time median of 3 (Wine's server is already up, as Windows' services are on a PC);
3. the daemon's memory: `hostward run` with its jobs on their normal schedule, RSS of the
   Windows python.exe seen from Linux (psutil on Wine's process), sampled for 30 s after the
   first collect and audit ran; peak and last.

Uses the Wine kit of tests/windows (a private prefix in a temp dir). Budgets are for Wine on
2 cores; a real PC is the reference, Wine only guards against regressions.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "windows"))

from testkit import free_port  # noqa: E402
from wine_kit import WineBox, bundle_zip  # noqa: E402

RUNS = 3
BUDGET_ZIP_MIB = 45.0
BUDGET_AUDIT_SECONDS = 8.0
BUDGET_RSS_MIB = 100.0
SAMPLE_SECONDS = 30.0


def wall(box: WineBox, *args: str) -> float:
    started = time.monotonic()
    done = box.hostward(*args, timeout=300)
    elapsed = time.monotonic() - started
    if done.returncode not in (0, 1, 2) or b"Traceback" in done.stderr:
        raise RuntimeError(done.describe())
    return elapsed


def daemon_rss(box: WineBox) -> tuple[float, float]:
    """(peak, last) RSS in MiB of the daemon's python.exe."""
    folder = box.scratch("bench-daemon")
    port = free_port()
    (folder / "hostward.yaml").write_text(
        f"version: 1\nstate_dir: '{box.win_path(folder)}\\state'\nexporter: {{listen: '127.0.0.1:{port}'}}\n",
        encoding="utf-8",
    )
    proc = box.start_hostward("run", "-c", box.win_path(folder / "hostward.yaml"))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                if 'hostward_job_success{job="collect"}' in body and 'job="audit"' in body:
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            raise RuntimeError(f"the daemon did not run collect and audit: {proc.stop()[1][-2000:]!r}")
        pid = proc.python_pid()
        if pid is None:
            raise RuntimeError("no python.exe under the launcher")
        samples: list[float] = []
        end = time.monotonic() + SAMPLE_SECONDS
        while time.monotonic() < end:
            samples.append(psutil.Process(pid).memory_info().rss / 2**20)
            time.sleep(1)
        return max(samples), samples[-1]
    finally:
        proc.stop()


def main() -> int:
    zip_path = bundle_zip()
    with zipfile.ZipFile(zip_path) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
        entries = len(archive.infolist())
    size = zip_path.stat().st_size / 2**20
    worst = 0 if size <= BUDGET_ZIP_MIB else 1
    print(f"bundle {zip_path.name}: {size:.1f} MiB zipped, {unpacked / 2**20:.1f} MiB unpacked, "
          f"{entries} files [budget {BUDGET_ZIP_MIB:.0f} MiB: {'ok' if worst == 0 else 'OVER'}]", flush=True)
    with tempfile.TemporaryDirectory(prefix="hostward-bench-wine-") as tmp:
        box = WineBox.create(Path(tmp), zip_path)
        try:
            version = statistics.median(wall(box, "--version") for _ in range(RUNS))
            audits = sorted(wall(box, "audit") for _ in range(RUNS))
            median = statistics.median(audits)
            ok = median <= BUDGET_AUDIT_SECONDS
            worst = max(worst, 0 if ok else 1)
            print(f"hostward --version under Wine: wall median {version:.2f} s", flush=True)
            print(f"hostward audit under Wine (cold process): wall median {median:.2f} s "
                  f"(min {audits[0]:.2f}, max {audits[-1]:.2f}) "
                  f"[budget {BUDGET_AUDIT_SECONDS:.0f} s: {'ok' if ok else 'OVER'}]", flush=True)
            peak, last = daemon_rss(box)
            ok = peak <= BUDGET_RSS_MIB
            worst = max(worst, 0 if ok else 1)
            print(f"hostward run under Wine: python.exe RSS peak {peak:.1f} MiB, last {last:.1f} MiB "
                  f"over {SAMPLE_SECONDS:.0f} s [budget {BUDGET_RSS_MIB:.0f} MiB: {'ok' if ok else 'OVER'}]",
                  flush=True)
        finally:
            box.close()
    return worst


if __name__ == "__main__":
    sys.exit(main())
