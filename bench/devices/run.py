"""Side by side in one run, on loopback:

- snmpsim (Debian `snmpsim`, its v2c engine) serves DEVICES - DEAD simulated 24-port switches
  (system group, ifTable, ifXTable, hrProcessorTable, hrStorageTable) on as many UDP ports,
  spread over SIMS processes; DEAD more ports are held by sockets that never answer (a dead
  device behind a router: no answer, not even ICMP port-unreachable);
- hostward polls all of them once (`poll_and_record`, the code of `hostward devices poll`),
  in a fresh process, CONCURRENCY devices at a time (its default);
- Debian `prometheus-snmp-exporter` 0.21 (already running, warmed up with one scrape) is
  scraped for every device with CONCURRENCY requests in flight (the same concurrency), with a
  module walking the same columns and the same timeout and retries;
- for comparison, hostward again with SNMP sent through pysnmp instead of the built-in codec.

Measured: wall time of the round; CPU seconds (hostward: the whole child process, start-up
included, and the round alone; snmp_exporter: utime+stime delta over the round); peak RSS
(hostward: ru_maxrss of the child; snmp_exporter: VmHWM). hostward's figures count only if it
read every live device completely (every interface, no warnings).
Budgets (DESIGN.md, issue 15): round <= 10 s for 200 devices; wall time and CPU seconds each <=
1.0x snmp_exporter's (hostward's CPU counts its whole process, start-up and config included).
Environment knobs for experiments: BENCH_TIMEOUT (5), BENCH_SIMS (4), BENCH_CONCURRENCY (64),
BENCH_SNMP_VERSION (2c; 3 = SNMPv3 authPriv SHA-256/AES everywhere: snmpsim's full engine with
one v3 user, hostward's v3 path (built-in USM; the comparison row: pysnmp), snmp_exporter with
the same user).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

DEVICES, DEAD, PORTS = 200, 5, 24
SIMS = int(os.environ.get("BENCH_SIMS", "4"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))
TIMEOUT, RETRIES = float(os.environ.get("BENCH_TIMEOUT", "5")), 1
V3 = os.environ.get("BENCH_SNMP_VERSION", "2c") == "3"
V3_USER, V3_AUTH_KEY, V3_PRIV_KEY = "bench", "bench-auth-pass", "bench-priv-pass"
BUDGET_SECONDS, BUDGET_RATIO, BUDGET_CPU_RATIO = 10.0, 1.0, 1.0
COMMUNITY = "bench-switch"
EXPORTER = "/usr/bin/prometheus-snmp-exporter"
TICK = os.sysconf("SC_CLK_TCK")
WALKED = (
    [f"1.3.6.1.2.1.2.2.1.{c}" for c in (2, 5, 7, 8, 10, 13, 14, 16, 19, 20)]
    + [f"1.3.6.1.2.1.31.1.1.1.{c}" for c in (1, 6, 10, 15, 18)]
    + ["1.3.6.1.2.1.25.3.3.1.2"]
    + [f"1.3.6.1.2.1.25.2.3.1.{c}" for c in (2, 3, 4, 5, 6)]
)
SCALARS = (
    "1.3.6.1.2.1.1.1.0",
    "1.3.6.1.2.1.1.2.0",
    "1.3.6.1.2.1.1.3.0",
    "1.3.6.1.2.1.1.5.0",
    "1.3.6.1.2.1.1.6.0",
)


# snmpsim's full engine (its --v2c-arch has no USM) with the one v3 user everything uses
V3_SIM_ARGV = [f"--v3-user={V3_USER}", f"--v3-auth-key={V3_AUTH_KEY}", "--v3-auth-proto=SHA256",
               f"--v3-priv-key={V3_PRIV_KEY}", "--v3-priv-proto=AES"]  # fmt: skip


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def snmprec() -> str:
    """A 24-port switch, records in OID order."""
    rows: list[tuple[str, str, str]] = [
        ("1.3.6.1.2.1.1.1.0", "4", "Bench switch 24G"), ("1.3.6.1.2.1.1.2.0", "6", "1.3.6.1.4.1.2011.2.23"),
        ("1.3.6.1.2.1.1.3.0", "67", "123456789"), ("1.3.6.1.2.1.1.5.0", "4", "bench-sw"),
        ("1.3.6.1.2.1.1.6.0", "4", "bench room"),
    ]  # fmt: skip
    for i in range(1, PORTS + 1):
        for col, tag, value in (
            (2, "4", f"GigabitEthernet0/0/{i}"), (5, "66", "1000000000"), (7, "2", "1"),
            (8, "2", "1" if i % 3 else "2"), (10, "65", str(1000 * i)), (13, "65", "0"), (14, "65", "0"),
            (16, "65", str(2000 * i)), (19, "65", "0"), (20, "65", "0"),
        ):  # fmt: skip
            rows.append((f"1.3.6.1.2.1.2.2.1.{col}.{i}", tag, value))
        for col, tag, value in (
            (1, "4", f"GE0/0/{i}"), (6, "70", str(10**12 + i)), (10, "70", str(2 * 10**12 + i)),
            (15, "66", "1000"), (18, "4", f"port {i}"),
        ):  # fmt: skip
            rows.append((f"1.3.6.1.2.1.31.1.1.1.{col}.{i}", tag, value))
    for i in (196608, 196609):
        rows.append((f"1.3.6.1.2.1.25.3.3.1.2.{i}", "2", "12"))
    for i, (kind, descr) in enumerate((("2", "RAM"), ("4", "flash:"), ("3", "swap")), 1):
        for col, tag, value in ((2, "6", f"1.3.6.1.2.1.25.2.1.{kind}"), (3, "4", descr), (4, "2", "1024"),
                                (5, "2", "524288"), (6, "2", "131072")):  # fmt: skip
            rows.append((f"1.3.6.1.2.1.25.2.3.1.{col}.{i}", tag, value))
    rows.sort(key=lambda r: tuple(int(p) for p in r[0].split(".")))
    return "".join(f"{o}|{t}|{v}\n" for o, t, v in rows)


def exporter_config() -> str:
    lines = ["bench:", "  walk:"] + [f"  - {o}" for o in WALKED] + ["  get:"] + [f"  - {o}" for o in SCALARS]
    lines += ["  metrics:"]
    for oid in WALKED:
        lines += [f"  - name: o_{oid.replace('.', '_')}", f"    oid: {oid}", "    type: gauge",
                  "    indexes:", "    - labelname: idx", "      type: gauge"]  # fmt: skip
    for oid in SCALARS:
        lines += [f"  - name: s_{oid.replace('.', '_')}", f"    oid: {oid[:-2]}", "    type: DisplayString"]
    lines += [f"  version: {3 if V3 else 2}", "  max_repetitions: 25", f"  retries: {RETRIES}",
              f"  timeout: {TIMEOUT / (RETRIES + 1):.2f}s", "  auth:"]  # fmt: skip
    if V3:  # the same user as snmpsim's; the context name selects the recording
        lines += [f"    username: {V3_USER}", "    security_level: authPriv",
                  f"    password: {V3_AUTH_KEY}", "    auth_protocol: SHA256",
                  f"    priv_password: {V3_PRIV_KEY}", "    priv_protocol: AES",
                  f"    context_name: {COMMUNITY}"]  # fmt: skip
    else:
        lines.append(f"    community: {COMMUNITY}")
    return "\n".join(lines) + "\n"


def hostward_config(targets: list[int], secrets: Path) -> str:
    if V3:
        snmp = (f"version: '3', user: {V3_USER}, auth_protocol: SHA-256, auth_key_file: {secrets / 'auth'}, "
                f"priv_protocol: AES, priv_key_file: {secrets / 'priv'}, context: {COMMUNITY}")  # fmt: skip
    else:
        snmp = f"version: '2c', community_file: {secrets / 'community'}"
    lines = ["devices:"]
    for n, port in enumerate(targets):
        lines.append(
            f"  - {{name: sw{n:03d}, kind: switch, address: '127.0.0.1:{port}', snmp: {{{snmp}, "
            f"timeout: {TIMEOUT}, retries: {RETRIES}}}}}"
        )
    return "\n".join(lines) + "\n"


def wait_udp(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("snmpsim exited")
        done = subprocess.run(
            ["snmpget", "-v2c", "-c", COMMUNITY, "-t", "0.5", "-r", "0", "-On", f"127.0.0.1:{port}",
             "1.3.6.1.2.1.1.5.0"], capture_output=True, env={**os.environ, "MIBS": ""}, check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return
    raise RuntimeError(f"snmpsim on {port} not answering")


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_hostward(config: Path, engine: str = "native") -> dict[str, Any]:
    started = time.monotonic()
    argv = [sys.executable, "-m", "bench.devices.hostward_round", str(config), str(CONCURRENCY), engine]
    proc = subprocess.Popen(argv,
                            stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError("hostward round failed")
    figures: dict[str, Any] = json.loads(out)
    figures["process_seconds"] = time.monotonic() - started
    figures["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    figures["peak_rss_mib"] = usage.ru_maxrss / 1024
    return figures


def run_exporter(port: int, targets: list[int], pid: int) -> dict[str, float]:
    def scrape(target: int) -> bool:
        url = f"http://127.0.0.1:{port}/snmp?module=bench&target=127.0.0.1:{target}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                body = response.read()
        except urllib.error.HTTPError:  # a dead target is a 500 with the reason
            return False
        return b"snmp_scrape_walk_duration_seconds" in body and b"o_1_3_6_1_2_1_2_2_1_10" in body

    if not scrape(targets[0]):  # warm-up: the exporter is a long-running process
        raise RuntimeError("snmp_exporter cannot scrape a live device")
    cpu0, started = proc_cpu(pid), time.monotonic()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        results = list(pool.map(scrape, targets))
    wall = time.monotonic() - started
    return {"round_seconds": wall, "cpu_seconds": proc_cpu(pid) - cpu0,
            "peak_rss_mib": proc_hwm_kib(pid) / 1024, "up": sum(results)}  # fmt: skip


def main() -> int:
    if not shutil.which("snmpsimd") or not Path(EXPORTER).exists():
        print("needs Debian snmpsim and prometheus-snmp-exporter (scripts/debian-deps.sh bench)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="hostward-bench-devices-"))
    procs: list[subprocess.Popen[bytes]] = []
    holes: list[socket.socket] = []
    try:
        data = work / "data"
        data.mkdir(parents=True)
        (data / f"{COMMUNITY}.snmprec").write_text(snmprec())
        for path, mode in ((work, 0o755), (data, 0o755)):
            path.chmod(mode)
        live = [free_port(socket.SOCK_DGRAM) for _ in range(DEVICES - DEAD)]
        # Dead devices: ports held by sockets nobody reads. Like a powered-off device behind a
        # router, they answer nothing, not even ICMP port-unreachable (which loopback would send
        # for a closed port and which lets a connected UDP socket fail at once).
        for _ in range(DEAD):
            hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            hole.bind(("127.0.0.1", 0))
            holes.append(hole)
        dead = [int(h.getsockname()[1]) for h in holes]
        per = -(-len(live) // SIMS)
        for n in range(SIMS):
            cache = work / f"cache{n}"  # one each: they would build the same index at once
            cache.mkdir()
            cache.chmod(0o777)
            # --v2c-arch: snmpsim's lighter v1/v2c engine, about twice the throughput; the
            # simulator must not be what is measured.
            argv = [
                "snmpsimd",
                *(V3_SIM_ARGV if V3 else ["--v2c-arch"]),
                f"--data-dir={data}",
                f"--cache-dir={cache}",
                "--logging-method=null",
            ]
            argv += [f"--agent-udpv4-endpoint=127.0.0.1:{p}" for p in live[n * per : (n + 1) * per]]
            if os.geteuid() == 0:
                argv += ["--process-user=nobody", "--process-group=nogroup"]
            procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for n in range(SIMS):
            wait_udp(live[n * per], procs[n])
        targets = live[: len(live) // 2] + dead + live[len(live) // 2 :]
        for name, text in (("community", COMMUNITY), ("auth", V3_AUTH_KEY), ("priv", V3_PRIV_KEY)):
            (work / name).write_text(text + "\n")
            (work / name).chmod(0o600)
        config = work / "hostward.yaml"
        config.write_text(hostward_config(targets, work))
        (work / "snmp.yml").write_text(exporter_config())
        exporter_port = free_port(socket.SOCK_STREAM)
        exporter = subprocess.Popen(
            [EXPORTER, f"--config.file={work / 'snmp.yml'}",
             f"--web.listen-address=127.0.0.1:{exporter_port}"],
            stdout=subprocess.DEVNULL, stderr=(work / "exporter.log").open("wb"),
        )  # fmt: skip
        procs.append(exporter)
        time.sleep(1.0)
        hw = run_hostward(config)
        ex = run_exporter(exporter_port, targets, exporter.pid)
        slow = run_hostward(config, "pysnmp")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        for hole in holes:
            hole.close()
        shutil.rmtree(work, ignore_errors=True)
    for warning in hw["warnings"]:
        print(f"hostward warning (sample): {warning}")
    ratio = hw["round_seconds"] / ex["round_seconds"]
    protocol = "SNMPv3 authPriv SHA-256/AES" if V3 else "SNMPv2c"
    print(
        f"{protocol}, devices: {DEVICES} ({DEAD} dead), timeout {TIMEOUT:g}s, retries {RETRIES}, "
        f"{SIMS} snmpsim processes"
    )
    print(f"{'':16}{'round s':>9}{'CPU s':>9}{'peak RSS MiB':>14}{'up':>6}")
    print(
        f"{'hostward':16}{hw['round_seconds']:9.2f}{hw['cpu_seconds']:9.2f}{hw['peak_rss_mib']:14.1f}{hw['up']:6.0f}"
    )
    print(
        f"{'snmp_exporter':16}{ex['round_seconds']:9.2f}{ex['cpu_seconds']:9.2f}{ex['peak_rss_mib']:14.1f}{ex['up']:6.0f}"
    )
    print(f"{'hostward/pysnmp':16}{slow['round_seconds']:9.2f}{slow['cpu_seconds']:9.2f}"
          f"{slow['peak_rss_mib']:14.1f}{slow['up']:6.0f}  (all through pysnmp, for comparison)")  # fmt: skip
    print(f"hostward process total {hw['process_seconds']:.2f}s wall (start-up and imports included); "
          f"round alone {hw['round_cpu_seconds']:.2f} CPU s; "
          f"{hw['interfaces']:.0f} interfaces read")  # fmt: skip
    complete = (
        hw["up"] == DEVICES - DEAD and hw["interfaces"] == (DEVICES - DEAD) * PORTS and not hw["warnings"]
    )
    if not complete:
        print("hostward did not read every live device completely: the figures do not count")
    cpu_ratio = hw["cpu_seconds"] / ex["cpu_seconds"] if ex["cpu_seconds"] else float("inf")
    ok = hw["round_seconds"] <= BUDGET_SECONDS and ratio <= BUDGET_RATIO and complete
    ok = ok and cpu_ratio <= BUDGET_CPU_RATIO
    print(f"CPU ratio hostward/snmp_exporter {cpu_ratio:.2f} (budget {BUDGET_CPU_RATIO})")
    print(f"ratio hostward/snmp_exporter {ratio:.2f} (budget {BUDGET_RATIO}), "
          f"round {hw['round_seconds']:.2f}s (budget {BUDGET_SECONDS:g}s): "
          f"{'OK' if ok else 'OVER BUDGET'}")  # fmt: skip
    return 0 if ok else 1
