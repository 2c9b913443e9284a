"""Side by side in one run, on loopback:

- `hostward run` (temp config, host collection every 15 s, no devices);
- Debian `prometheus-node-exporter` with its default collectors ("full");
- node_exporter restricted to the collectors hostward covers ("comparable": cpu, meminfo,
  filesystem, diskstats, netdev, loadavg, stat, hwmon, vmstat; exporter self-metrics off),
  so that sample counts are close — this is how the figures are equalised; per-sample figures
  are printed too.

Measured per process: steady RSS after warm-up (VmRSS, the max of samples taken during the
measured scrapes), scrape latency p50/p99 over SCRAPES scrapes on one keep-alive connection
(what Prometheus does), CPU seconds per 100 scrapes (utime+stime from /proc/PID/stat, which
for hostward also includes its background collection), samples per scrape. Scrapes of the
three targets are interleaved in rounds so drift hits them equally.

Budgets (DESIGN.md): RSS <= 1.3x node_exporter; p50 and CPU per scrape <= 1.0x at equal
sample count (hostward vs the comparable node_exporter).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SCRAPES = 600
ROUND = 25
WARMUP_SCRAPES = 20
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
COMPARABLE = (
    "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo", "--collector.filesystem",
    "--collector.diskstats", "--collector.netdev", "--collector.loadavg", "--collector.stat",
    "--collector.hwmon", "--collector.vmstat", "--web.disable-exporter-metrics",
)  # fmt: skip
BUDGET_RSS, BUDGET_P50, BUDGET_CPU = 1.3, 1.0, 1.0
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    name: str
    argv: list[str]
    port: int
    proc: subprocess.Popen[bytes] | None = None
    latencies: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu_seconds: float = 0.0
    samples: int = 0
    conn: http.client.HTTPConnection | None = None

    def start(self, log: Path) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def scrape(self) -> bytes:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.conn.request("GET", "/metrics")
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{self.name}: HTTP {response.status}")
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return body

    def cpu(self) -> float:
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime

    def rss(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def count_samples(body: bytes) -> int:
    return sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))


def wait_ready(target: Target, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if b"_memory" in target.scrape() or b"node_memory" in target.scrape():
                return
        except (OSError, RuntimeError, http.client.HTTPException):
            target.conn = None
        time.sleep(0.2)
    raise RuntimeError(f"{target.name} did not come up")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(targets: list[Target]) -> None:
    for t in targets:
        for _ in range(WARMUP_SCRAPES):
            t.samples = count_samples(t.scrape())
    time.sleep(1.0)
    start_cpu = {t.name: t.cpu() for t in targets}
    for _ in range(SCRAPES // ROUND):
        for t in targets:
            for _ in range(ROUND):
                started = time.perf_counter()
                t.scrape()
                t.latencies.append(time.perf_counter() - started)
            t.rss_kib.append(t.rss())
    for t in targets:
        t.cpu_seconds = t.cpu() - start_cpu[t.name]


def report(hw: Target, full: Target, comparable: Target) -> int:
    rows = []
    for t in (hw, full, comparable):
        rows.append(
            (t.name, max(t.rss_kib) / 1024, percentile(t.latencies, 0.5) * 1000,
             percentile(t.latencies, 0.99) * 1000, t.cpu_seconds * 100 / len(t.latencies), t.samples)
        )  # fmt: skip
    print(f"{'process':<26}{'RSS MiB':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU s/100 scrapes':>19}{'samples':>9}")
    for name, rss, p50, p99, cpu, samples in rows:
        print(f"{name:<26}{rss:>9.1f}{p50:>9.3f}{p99:>9.3f}{cpu:>19.4f}{samples:>9}")
    h = rows[0]
    worst = 0
    print()
    for other in rows[1:]:
        rss_ratio, p50_ratio = h[1] / other[1], h[2] / other[2]
        cpu_ratio = h[4] / other[4] if other[4] else float("inf")
        per_sample = (h[4] / h[5]) / (other[4] / other[5]) if other[4] else float("inf")
        print(
            f"hostward / {other[0]:<16} RSS {rss_ratio:.2f}x  p50 {p50_ratio:.2f}x"
            f"  CPU/scrape {cpu_ratio:.2f}x  CPU/scrape/sample {per_sample:.2f}x"
            f"  samples {h[5] / other[5]:.2f}x"
        )
    # The budget: RSS against node_exporter as shipped; latency and CPU at (near) equal samples.
    c = rows[2]
    checks = {
        "RSS <= 1.3x node_exporter (full)": h[1] / rows[1][1] <= BUDGET_RSS,
        "p50 <= 1.0x node_exporter (comparable)": h[2] / c[2] <= BUDGET_P50,
        "CPU/scrape <= 1.0x node_exporter (comparable)": (h[4] / c[4] if c[4] else 0) <= BUDGET_CPU,
    }
    print()
    for check, ok in checks.items():
        print(f"{'ok  ' if ok else 'OVER'} {check}")
        worst = worst if ok else 1
    return worst


def main() -> int:
    if not Path(NODE_EXPORTER).exists():
        print(f"footprint: {NODE_EXPORTER} missing (Debian prometheus-node-exporter)", file=sys.stderr)
        return 1
    hostward = shutil.which("hostward", path=str(Path(sys.executable).parent)) or "hostward"
    work = Path(tempfile.mkdtemp(prefix="hostward-bench-"))
    hw_port = free_port()
    config = work / "hostward.yaml"
    config.write_text(
        f'version: 1\nstate_dir: {work / "state"}\nexporter:\n  listen: "127.0.0.1:{hw_port}"\n'
        "collect:\n  schedule: {every: 15s}\n",
        encoding="utf-8",
    )
    full_port, comp_port = free_port(), free_port()
    targets = [
        Target("hostward", [hostward, "run", "-c", str(config)], hw_port),
        Target(
            "node_exporter (full)", [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{full_port}"], full_port
        ),
        Target(
            "node_exporter (comparable)",
            [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{comp_port}", *COMPARABLE],
            comp_port,
        ),
    ]
    try:
        for t in targets:
            t.start(work / f"{t.name.split()[0]}-{t.port}.log")
        for t in targets:
            wait_ready(t)
        measure(targets)
        print(f"{SCRAPES} scrapes per process, keep-alive, interleaved in rounds of {ROUND}; "
              f"CPU from /proc/PID/stat; RSS = max VmRSS during the scrapes.\n")  # fmt: skip
        return report(*targets)
    finally:
        for t in targets:
            t.stop()
        shutil.rmtree(work, ignore_errors=True)
