"""CPU, kernel and collector-health families from the stored host record (collectors/host.py).

- `hostward_cpu_seconds_total{cpu,mode}`: per CPU and mode, as node_exporter's cpu collector
  (guest time, already counted in user, apart in `hostward_cpu_guest_seconds_total`);
- context switches, interrupts, forks, runnable/blocked processes (node_exporter's stat);
- /proc/meminfo as `hostward_memory_meminfo_bytes{field}` and chosen /proc/vmstat counters (Linux);
- `hostward_host_collector_success{collector}` / `..._duration_seconds{collector}`: one per
  part of the host collector, as node_exporter's `node_scrape_collector_*`. A part that raised
  is success 0; every other part still exports its data.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from collectors.host import HostSnapshot

_GUEST = ("guest", "guest_nice")
# cpu_stats key -> (metric name without "hostward_", help, counter?)
_STAT = {
    "ctx_switches": ("context_switches", "Context switches since boot.", True),
    "interrupts": ("interrupts", "Interrupts serviced since boot.", True),
    "soft_interrupts": ("soft_interrupts", "Software interrupts serviced since boot.", True),
    "processes": ("forks", "Processes and threads created since boot (Linux).", True),
    "procs_running": ("procs_running", "Processes runnable now (Linux).", False),
    "procs_blocked": ("procs_blocked", "Processes blocked waiting for I/O now (Linux).", False),
}


def detail_families(host: HostSnapshot) -> Iterator[Metric]:
    yield from _cpus(host)
    for key, (name, doc, counter) in _STAT.items():
        value = host.cpu_stats.get(key)
        if value is None:
            continue
        if counter:
            yield CounterMetricFamily(f"hostward_{name}", doc, value=value)
        else:
            yield GaugeMetricFamily(f"hostward_{name}", doc, value=value)
    if host.meminfo:
        meminfo = GaugeMetricFamily(
            "hostward_memory_meminfo_bytes", "Each /proc/meminfo field counted in kB, in bytes (Linux).",
            labels=("field",),
        )  # fmt: skip
        for field, value in sorted(host.meminfo.items()):
            meminfo.add_metric((field,), value)
        yield meminfo
    for field, value in sorted(host.vmstat.items()):
        yield CounterMetricFamily(f"hostward_vmstat_{field}", f"/proc/vmstat {field} (Linux).", value=value)
    yield from collector_families(host)


def _cpus(host: HostSnapshot) -> Iterator[Metric]:
    if not host.cpus:
        return
    cpu = CounterMetricFamily(
        "hostward_cpu_seconds", "CPU time spent in each mode, per CPU.", labels=("cpu", "mode")
    )
    guest = CounterMetricFamily(
        "hostward_cpu_guest_seconds",
        "CPU time spent running virtual machines, per CPU (already counted in user).",
        labels=("cpu", "mode"),
    )
    for n, modes in enumerate(host.cpus):
        for mode, seconds in sorted(modes.items()):
            if mode in _GUEST:
                guest.add_metric((str(n), "user" if mode == "guest" else "nice"), seconds)
            else:
                cpu.add_metric((str(n), mode), seconds)
    yield cpu
    if guest.samples:
        yield guest


def collector_families(host: HostSnapshot) -> Iterator[Metric]:
    if not host.durations:
        return
    success = GaugeMetricFamily(
        "hostward_host_collector_success",
        "1 if this part of the host collector read its data last time, 0 if it failed (reason in the log\n"
        "and the status page).",
        labels=("collector",),
    )
    duration = GaugeMetricFamily(
        "hostward_host_collector_duration_seconds",
        "How long this part of the host collector took last time.",
        labels=("collector",),
    )
    for part, seconds in sorted(host.durations.items()):
        success.add_metric((part,), 0 if part in host.errors else 1)
        duration.add_metric((part,), seconds)
    yield success
    yield duration
