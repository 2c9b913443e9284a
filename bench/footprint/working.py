"""The footprint of a working agent (issue 11): the daemon measured after every configured job
has run at least twice, next to Debian's node_exporter over the same window.

The agent runs the jobs of a busy office PC, at short intervals so that each runs at least
twice: collect (15 s), host_health, audit, a backup to two local restic repositories with
verify, prune and drill, a devices round against snmpsim (Debian `snmpsim`, 4 simulated
24-port switches on loopback), inventory, usb_watch (10 s) and the daily report.

Measured, over WINDOW seconds (env HOSTWARD_BENCH_FOOTPRINT_SECONDS, default 300; shorter for
a smoke run) and then until every job has run twice:
- the daemon's steady RSS: VmRSS sampled every second; the max and median over the last
  minute (all jobs have run by then), against node_exporter's (full) max over the same minute;
  every target is scraped every 15 s during the window, as Prometheus would;
- each worker's start cost (ms from start until its job began, its RSS then) and peak RSS
  (the worker's own ru_maxrss), from the daemon's "job X worker: ..." log lines;
- the peak RSS of the other processes the workers start (restic), sampled every second;
- the CPU of the daemon and its workers (utime+stime+cutime+cstime) over the window;
- then the scrape comparison of bench/footprint/run.py (p50, CPU per 100 scrapes) with the
  jobs still running.

The daemon runs as deployed: the playbook installs hostward's wheel into a virtual environment
of the host's python3 (`hostward_python`, /usr/bin/python3 on Debian) and systemd starts
`bin/hostward run`. The bench does the same in its work directory (`pip install` of the tree,
not an editable install, whose import hook and .pth files the daemon would carry), with
/usr/bin/python3 where it exists and this Python otherwise.
HOSTWARD_BENCH_FOOTPRINT_SOURCE=/path/to/an/old/tree installs and measures another source tree
(before/after).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.devices.run import snmprec
from bench.footprint import run as scrape

WINDOW = float(os.environ.get("HOSTWARD_BENCH_FOOTPRINT_SECONDS", "300"))
SCRAPE_EVERY = 15.0  # seconds between scrapes of every target during the window
STEADY = 60.0  # the last this many seconds of the window give the steady RSS
SWITCHES = 4
COMMUNITY = "bench"
BUDGET_RSS_GOAL, BUDGET_RSS_LIMIT = 1.1, 1.3
BUDGETS = f"goal <= {BUDGET_RSS_GOAL}x, limit {BUDGET_RSS_LIMIT}x"
WORKER_LINE = re.compile(r"job (\S+) worker: started in (\d+) ms at ([\d.]+) MiB, peak ([\d.]+) MiB")
TICK = os.sysconf("SC_CLK_TCK")
DEPLOYED_PYTHON = "/usr/bin/python3"  # playbooks: hostward_python
ROOT = Path(__file__).resolve().parents[2]


def config_text(work: Path, port: int, switches: list[int]) -> str:
    every = "jitter: 0s, enabled: true"
    devices = "\n".join(
        f"  - {{name: sw{n}, kind: switch, address: '127.0.0.1:{p}', "
        f"snmp: {{version: '2c', community_file: {work / 'community'}, timeout: 2, retries: 1}}}}"
        for n, p in enumerate(switches)
    )
    repo = f"password_file: {work / 'password'}"
    return f"""version: 1
state_dir: {work / "state"}
exporter: {{listen: "127.0.0.1:{port}"}}
collect:
  schedule: {{every: 15s, {every}}}
  health_schedule: {{every: 60s, {every}}}
audit:
  schedule: {{every: 60s, timeout: 5m, {every}}}
backup:
  sources: [{work / "data"}]
  schedule: {{every: 90s, timeout: 10m, {every}}}
  repositories:
    primary: {{url: {work / "repo1"}, {repo}}}
    secondary: {{url: {work / "repo2"}, {repo}}}
  verify: {{schedule: {{every: 120s, timeout: 10m, {every}}}}}
  retention: {{schedule: {{every: 120s, timeout: 10m, {every}}}}}
  drill: {{schedule: {{every: 120s, timeout: 10m, {every}}}, scratch_dir: {work / "scratch"}}}
  cache_dir: {work / "cache"}
devices:
{devices}
devices_schedule:
  poll: {{every: 30s, {every}}}
inventory:
  schedule: {{every: 120s, {every}}}
  usb_watch: {{every: 10s, {every}}}
report:
  daily: {{schedule: {{every: 120s, {every}}}}}
"""


@dataclass
class Watch:
    """Samples the daemon and its descendants every second."""

    pid: int
    daemon: list[tuple[float, int]] = field(default_factory=list)  # (time, VmRSS KiB)
    others: dict[str, int] = field(default_factory=dict)  # program -> peak RSS KiB (not workers)
    node: list[tuple[float, int]] = field(default_factory=list)
    node_pid: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def loop(self) -> None:
        daemon = psutil.Process(self.pid)
        while not self.stop.wait(1.0):
            now = time.monotonic()
            try:
                self.daemon.append((now, daemon.memory_info().rss // 1024))
                children = daemon.children(recursive=True)
            except psutil.Error:
                return
            for child in children:
                try:
                    line = child.cmdline()
                    rss = child.memory_info().rss // 1024
                except psutil.Error:
                    continue
                if "agent.workers.child" in line:
                    continue
                name = Path(line[0]).name if line else child.name()
                self.others[name] = max(self.others.get(name, 0), rss)
            if self.node_pid:
                with contextlib.suppress(psutil.Error):
                    self.node.append((now, psutil.Process(self.node_pid).memory_info().rss // 1024))


def cpu_all(pid: int) -> float:
    """utime+stime+cutime+cstime: the daemon and the workers it has reaped."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICK


def job_runs(state: Path) -> dict[str, int]:
    if not (state / "state.db").exists():
        return {}
    db = sqlite3.connect(state / "state.db", timeout=10)
    try:
        return dict(db.execute("SELECT job, COUNT(*) FROM job_runs GROUP BY job").fetchall())
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()


def prepare(work: Path) -> list[subprocess.Popen[bytes]]:
    """Data to back up, two restic repositories, the community file, snmpsim."""
    data = work / "data"
    for n in range(200):
        (data / f"d{n % 10}").mkdir(parents=True, exist_ok=True)
        (data / f"d{n % 10}" / f"f{n}.txt").write_bytes(os.urandom(256) * (1 + n % 40))
    (work / "password").write_text("bench-password\n")
    (work / "community").write_text(COMMUNITY + "\n")
    for name in ("password", "community"):
        (work / name).chmod(0o600)
    (work / "scratch").mkdir()
    env = {**os.environ, "RESTIC_PASSWORD_FILE": str(work / "password")}
    for repo in ("repo1", "repo2"):
        subprocess.run(
            ["restic", "init", "--repo", str(work / repo)], env=env, check=True, capture_output=True
        )
    sim = work / "sim"
    sim.mkdir()
    (sim / f"{COMMUNITY}.snmprec").write_text(snmprec())
    for path in (work, sim):
        path.chmod(0o755)
    return []


def start_snmpsim(work: Path, ports: list[int]) -> subprocess.Popen[bytes]:
    cache = work / "simcache"
    cache.mkdir()
    cache.chmod(0o777)
    argv = [
        "snmpsimd",
        "--v2c-arch",
        f"--data-dir={work / 'sim'}",
        f"--cache-dir={cache}",
        "--logging-method=null",
    ]
    argv += [f"--agent-udpv4-endpoint=127.0.0.1:{p}" for p in ports]
    if os.geteuid() == 0:
        argv += ["--process-user=nobody", "--process-group=nogroup"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def deployed(work: Path, source: Path) -> Path:
    """`bin/hostward` of `source` installed as the playbook installs it (see the docstring)."""
    python = DEPLOYED_PYTHON if Path(DEPLOYED_PYTHON).exists() else sys.executable
    venv = work / "deployed"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, str(source)], check=True, cwd=work)
    where = "import sys, agent; print(sys.version.split()[0], agent.__file__)"
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", where], check=True, capture_output=True, text=True, cwd=work
    )
    print(f"hostward installed from {source} with Python {done.stdout.strip()}")
    return venv / "bin" / "hostward"


def udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workers_table(log: str) -> list[str]:
    per: dict[str, list[tuple[float, float, float]]] = {}
    for job, ms, start, peak in WORKER_LINE.findall(log):
        per.setdefault(job, []).append((float(ms), float(start), float(peak)))
    lines = [f"{'worker (job)':<16}{'runs':>5}{'start ms p50':>13}{'start MiB':>10}{'peak MiB':>9}"]
    for job, rows in sorted(per.items()):
        lines.append(
            f"{job:<16}{len(rows):>5}{statistics.median(r[0] for r in rows):>13.0f}"
            f"{statistics.median(r[1] for r in rows):>10.1f}{max(r[2] for r in rows):>9.1f}"
        )
    return lines


def main() -> int:
    missing = [p for p in ("restic", "snmpsimd") if shutil.which(p) is None]
    if missing or not Path(scrape.NODE_EXPORTER).exists():
        print(f"footprint: needs restic, snmpsim and {scrape.NODE_EXPORTER} (scripts/debian-deps.sh bench)")
        return 1
    source = Path(os.environ.get("HOSTWARD_BENCH_FOOTPRINT_SOURCE", "") or ROOT)
    work = Path(tempfile.mkdtemp(prefix="hostward-bench-footprint-"))
    procs: list[subprocess.Popen[bytes]] = []
    targets: list[scrape.Target] = []
    watch: Watch | None = None
    try:
        agent = deployed(work, source)
        prepare(work)
        switches = [udp_port() for _ in range(SWITCHES)]
        procs.append(start_snmpsim(work, switches))
        port, full_port, comp_port = scrape.free_port(), scrape.free_port(), scrape.free_port()
        (work / "hostward.yaml").write_text(config_text(work, port, switches))
        hostward = scrape.Target("hostward", [str(agent), "run", "-c", str(work / "hostward.yaml")], port)
        full = scrape.Target(
            "node_exporter (full)",
            [scrape.NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{full_port}"],
            full_port,
        )
        comparable = scrape.Target(
            "node_exporter (comparable)",
            [scrape.NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{comp_port}", *scrape.COMPARABLE],
            comp_port,
        )
        targets = [hostward, full, comparable]
        log = work / "hostward.log"
        hostward.start(log)
        full.start(work / "node-full.log")
        comparable.start(work / "node-comparable.log")
        for t in targets:
            scrape.wait_ready(t)
        assert hostward.proc is not None and full.proc is not None
        watch = Watch(hostward.proc.pid, node_pid=full.proc.pid)
        threading.Thread(target=watch.loop, daemon=True).start()
        started, cpu0 = time.monotonic(), cpu_all(hostward.proc.pid)
        configured = set(job_runs(work / "state")) | {"collect"}
        next_scrape = 0.0
        while True:
            time.sleep(1)
            if time.monotonic() >= next_scrape:  # as Prometheus does, every target alike
                next_scrape = time.monotonic() + SCRAPE_EVERY
                for t in targets:
                    fresh = scrape.Target(t.name, t.argv, t.port)  # a new connection each time
                    fresh.scrape()
                    fresh.stop()
            runs = job_runs(work / "state")
            configured |= set(runs)
            if hostward.proc.poll() is not None:
                raise RuntimeError(f"hostward exited:\n{log.read_text()[-3000:]}")
            if time.monotonic() - started >= WINDOW and all(runs.get(j, 0) >= 2 for j in configured):
                break
        elapsed, cpu = time.monotonic() - started, cpu_all(hostward.proc.pid) - cpu0
        end = time.monotonic()
        steady = [kib for at, kib in watch.daemon if at >= end - STEADY]
        node = [kib for at, kib in watch.node if at >= end - STEADY]
        print(f"{elapsed:.0f} s with every configured job running; runs per job:")
        print("  " + ", ".join(f"{j} {n}" for j, n in sorted(job_runs(work / "state").items())))
        ratio = max(steady) / max(node)
        print(
            f"\ndaemon steady RSS (last {STEADY:.0f} s): max {max(steady) / 1024:.1f} MiB, "
            f"median {statistics.median(steady) / 1024:.1f} MiB; node_exporter (full) max "
            f"{max(node) / 1024:.1f} MiB; ratio {ratio:.2f}x ({BUDGETS})"
        )
        print(f"daemon RSS over the whole window: max {max(k for _, k in watch.daemon) / 1024:.1f} MiB")
        share = 100 * cpu / elapsed
        print(f"CPU of the daemon and its workers: {cpu:.1f} s in {elapsed:.0f} s ({share:.1f}% of a core)\n")
        print("\n".join(workers_table(log.read_text(encoding="utf-8", errors="replace"))))
        print(
            "other processes the workers started, peak RSS MiB: "
            + ", ".join(f"{k} {v / 1024:.1f}" for k, v in sorted(watch.others.items()))
        )
        print("\nscrapes, with the jobs still running:")
        for t in targets:  # idle keep-alive connections were closed by the servers meanwhile
            if t.conn is not None:
                t.conn.close()
                t.conn = None
        scrape.measure(targets)
        code = scrape.report(hostward, full, comparable)
        verdict = "ok  " if ratio <= BUDGET_RSS_GOAL else ("near" if ratio <= BUDGET_RSS_LIMIT else "OVER")
        print(f"{verdict} steady RSS {ratio:.2f}x node_exporter ({BUDGETS})")
        return code if ratio <= BUDGET_RSS_LIMIT else 1
    finally:
        if watch is not None:
            watch.stop.set()
        for t in targets:
            t.stop()
        for p in procs:
            p.terminate()
            p.wait(10)
        shutil.rmtree(work, ignore_errors=True)
