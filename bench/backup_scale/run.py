"""`python -m bench.backup_scale`: a 10 GiB source with a 1 % nightly change.

Measured, night by night (the order alternates: the host is shared and the page cache favours
whoever runs second):
- one plain `restic backup -q` incremental into its own repository (the anchor);
- hostward's nightly job (`do_backup`, as the daemon's worker runs it: backup into the primary,
  its new files mirrored, hash-verified, into the secondary, state and journal written), in a
  child process (`bench.backup_scale.worker`) that reports the job's own time; the process's
  whole wall time (Python's start and imports included, as `hostward backup run` from a shell)
  is reported beside it.
The budget: the median of the nightly ratios of the job to plain restic <= 1.2x. Beside each,
the peak memory of the hostward process and of its restic child (psutil RSS sampled every
0.1 s, and the kernel's own high-water mark VmHWM from /proc on Linux), and of plain restic.

Settings (environment): HOSTWARD_SCALE_BYTES (default 10 GiB; a smoke run: 200000000),
HOSTWARD_SCALE_NIGHTS (3), HOSTWARD_BENCH_DIR (work directory, default bench/.work),
HOSTWARD_SCALE_KEEP=1 keeps the data and repositories (they are removed otherwise).
Disk: about 3.5x the size (source, three repositories); checked before anything is written.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from bench.backup_scale.data import change, generate

BUDGET = 1.2
ROOT = Path(__file__).resolve().parents[2]


class Peak:
    """Peak memory of a process and its children while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.rss: dict[str, int] = {}  # process name -> peak RSS (sampled)
        self.hwm: dict[str, int] = {}  # process name -> peak VmHWM (the kernel's)
        self.total = 0  # peak of the sum of RSS over the tree
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.wait(0.1):
            try:
                root = psutil.Process(self.pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            total = 0
            for proc in tree:
                try:
                    name = "restic" if proc.name() == "restic" else "hostward/python"
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                self.rss[name] = max(self.rss.get(name, 0), rss)
                self.hwm[name] = max(self.hwm.get(name, 0), _hwm(proc.pid))
            self.total = max(self.total, total)

    def done(self) -> dict[str, Any]:
        self.stop.set()
        self.thread.join()
        return {"rss": dict(self.rss), "vm_hwm": dict(self.hwm), "tree_rss": self.total}


def _hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def timed(argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, dict[str, Any]]:
    """Wall time and peak memory of `argv`; a worker's JSON report is kept as memory["job"]."""
    started = time.monotonic()
    proc = subprocess.Popen(list(argv), env=env, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = Peak(proc.pid)
    out, err = proc.communicate()
    elapsed = time.monotonic() - started
    memory = peak.done()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:4]} exited {proc.returncode}: {err.decode('utf-8', 'replace')[-500:]}")
    last = out.strip().splitlines()[-1:]
    if last and last[0].startswith(b"{"):
        memory["job"] = json.loads(last[0])
    return elapsed, memory


def main() -> int:
    if shutil.which("restic") is None:
        print("restic is not installed", file=sys.stderr)
        return 1
    size = int(os.environ.get("HOSTWARD_SCALE_BYTES", str(10 * 2**30)))
    nights = int(os.environ.get("HOSTWARD_SCALE_NIGHTS", "3"))
    work = Path(os.environ.get("HOSTWARD_BENCH_DIR") or ROOT / "bench" / ".work") / "scale"
    work.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(work).free
    if free < 3.5 * size:
        print(
            f"not enough disk: {free / 2**30:.1f} GiB free, {3.5 * size / 2**30:.1f} GiB needed",
            file=sys.stderr,
        )
        return 1
    try:
        return _run(work, size, nights)
    finally:
        if not os.environ.get("HOSTWARD_SCALE_KEEP"):
            for name in ("source", "plain", "primary", "secondary", "cache", "state"):
                shutil.rmtree(work / name, ignore_errors=True)


def _run(work: Path, size: int, nights: int) -> int:
    source, cache = work / "source", work / "cache"
    t0 = time.monotonic()
    data_bytes, files = generate(source, size)
    generated = time.monotonic() - t0
    password = work / "restic.pass"
    password.write_text("bench password\n")
    password.chmod(0o600)
    plain_env = {
        "PATH": os.environ["PATH"], "HOME": str(work), "RESTIC_REPOSITORY": str(work / "plain"),
        "RESTIC_PASSWORD_FILE": str(password), "RESTIC_CACHE_DIR": str(cache),
    }  # fmt: skip
    config = work / "hostward.yaml"
    config.write_text(
        f'version: 1\nstate_dir: "{work / "state"}"\nexporter: {{enabled: false}}\nbackup:\n'
        f'  sources: ["{source}"]\n  cache_dir: "{cache}"\n  repositories:\n'
        f'    primary: {{url: "{work / "primary"}", password_file: "{password}"}}\n'
        f'    secondary: {{url: "{work / "secondary"}", password_file: "{password}"}}\n',
        encoding="utf-8",
    )
    hw_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed
    hw_env["PYTHONPATH"] = str(ROOT)
    hostward = [sys.executable, "-m", "agent", "backup"]
    worker = [sys.executable, "-m", "bench.backup_scale.worker", str(config)]
    for name in ("plain", "primary", "secondary", "state"):
        shutil.rmtree(work / name, ignore_errors=True)
    subprocess.run(["restic", "init"], env=plain_env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [*hostward, "init", "-c", str(config)], env=hw_env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    r: dict[str, Any] = {"data_bytes": data_bytes, "files": files, "generate_s": generated, "nights": []}
    r["plain_initial_s"], r["plain_initial_memory"] = timed(
        ["restic", "backup", "-q", str(source)], plain_env, work
    )
    r["dual_initial_s"], r["dual_initial_memory"] = timed([*hostward, "run", "-c", str(config)], hw_env, ROOT)
    for night in range(nights):
        changed = change(source, data_bytes, 0.01, seed=100 + night)
        row: dict[str, Any] = {"changed_bytes": changed}
        order = ("plain", "dual") if night % 2 == 0 else ("dual", "plain")
        for who in order:
            if who == "plain":
                row["plain_s"], row["plain_memory"] = timed(
                    ["restic", "backup", "-q", str(source)], plain_env, work
                )
            else:
                row["dual_s"], row["dual_memory"] = timed(worker, hw_env, ROOT)
                row["job_s"] = row["dual_memory"]["job"]["job_s"]
                row["mirror_s"] = row["dual_memory"]["job"]["repositories"]["secondary"][1]
        row["ratio"] = row["job_s"] / row["plain_s"]
        row["process_ratio"] = row["dual_s"] / row["plain_s"]
        r["nights"].append(row)
        print(f"night {night + 1}: changed {changed / 2**20:.0f} MiB, plain {row['plain_s']:.1f} s, "
              f"dual job {row['job_s']:.1f} s (mirror {row['mirror_s']:.1f} s) = {row['ratio']:.2f}x; "
              f"whole process {row['dual_s']:.1f} s = {row['process_ratio']:.2f}x", flush=True)  # fmt: skip
    r["median_ratio"] = statistics.median(n["ratio"] for n in r["nights"])
    r["median_process_ratio"] = statistics.median(n["process_ratio"] for n in r["nights"])
    r["dual_peak"] = _peaks([n["dual_memory"] for n in r["nights"]] + [r["dual_initial_memory"]])
    r["plain_peak"] = _peaks([n["plain_memory"] for n in r["nights"]] + [r["plain_initial_memory"]])
    (work / "result.json").write_text(json.dumps(r, indent=2))
    mib = 2**20
    print(f"source {data_bytes / 2**30:.2f} GiB in {files} files (generated in {generated:.0f} s)")
    print(f"initial: plain {r['plain_initial_s']:.1f} s, hostward dual {r['dual_initial_s']:.1f} s")
    print(
        f"incremental (1 % a night): median dual job / plain {r['median_ratio']:.2f}x (budget {BUDGET}x); "
        f"with Python's start (hostward backup run from a shell) {r['median_process_ratio']:.2f}x"
    )
    for who in ("dual", "plain"):
        p = r[f"{who}_peak"]
        parts = ", ".join(
            f"{k} RSS {v / mib:.0f} MiB (VmHWM {p['vm_hwm'].get(k, 0) / mib:.0f})"
            for k, v in p["rss"].items()
        )
        print(f"peak memory {who}: {parts}; whole tree {p['tree_rss'] / mib:.0f} MiB")
    return 0 if r["median_ratio"] <= BUDGET else 1


def _peaks(samples: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"rss": {}, "vm_hwm": {}, "tree_rss": 0}
    for s in samples:
        for key in ("rss", "vm_hwm"):
            for name, value in s[key].items():
                out[key][name] = max(out[key].get(name, 0), value)
        out["tree_rss"] = max(out["tree_rss"], s["tree_rss"])
    return out
