"""Kernel counters psutil does not give: /proc/diskstats, net/dev, meminfo, vmstat and stat.

The host collector (collectors/host.py) reads the portable part through psutil; on Linux it adds
what node_exporter's diskstats, netdev, meminfo, vmstat and stat collectors export from these
files. Each reader returns None when the file does not exist (no /proc: an offline image) and
raises `SystemReadError` when it exists but cannot be read or parsed: reading nothing is never
reported as zero. Parsing is pure (`parse_*`), so recorded files test it.
"""

from __future__ import annotations

import os

from collectors.system.files import SystemReadError, read_text
from common.frozen import frozen

SECTOR = 512  # /proc/diskstats counts 512-byte sectors whatever the device's sector size
# /proc/vmstat fields node_exporter exports by default (its --collector.vmstat.fields)
VMSTAT_FIELDS = ("oom_kill", "pgfault", "pgmajfault", "pgpgin", "pgpgout", "pswpin", "pswpout")
STAT_FIELDS = ("processes", "procs_running", "procs_blocked")


@frozen
class DiskStats:
    """One line of /proc/diskstats beyond what psutil reads (None: the kernel has no such field)."""

    io_now: int  # I/Os in flight
    io_time_weighted: float  # seconds, each busy interval weighted by the I/Os in flight
    discards: int | None = None  # Linux 4.18+
    discards_merged: int | None = None
    discarded_bytes: int | None = None
    discard_time: float | None = None
    flushes: int | None = None  # Linux 5.5+
    flush_time: float | None = None


@frozen
class NetDevExtra:
    """The /proc/net/dev columns psutil leaves out."""

    rx_fifo: int
    rx_frame: int
    rx_compressed: int
    rx_multicast: int
    tx_fifo: int
    tx_colls: int
    tx_carrier: int
    tx_compressed: int


def _need(text: str | None, path: str) -> str | None:
    if text is not None and not text.strip():
        raise SystemReadError(path, "empty")
    return text


def parse_diskstats(text: str) -> dict[str, DiskStats]:
    """/proc/diskstats -> {device: DiskStats}. Lines of fewer than 14 fields are refused."""
    result: dict[str, DiskStats] = {}
    for number, line in enumerate(text.splitlines(), 1):
        f = line.split()
        if not f:
            continue
        if len(f) < 14:
            raise SystemReadError("/proc/diskstats", f"line {number}: {len(f)} fields, expected at least 14")
        try:
            v = [int(x) for x in f[3:]]
        except ValueError as exc:
            raise SystemReadError("/proc/diskstats", f"line {number}: {exc}") from exc
        extra: dict[str, float | int] = {}
        if len(v) >= 15:
            extra.update(discards=v[11], discards_merged=v[12], discarded_bytes=v[13] * SECTOR,
                         discard_time=v[14] / 1000.0)  # fmt: skip
        if len(v) >= 17:
            extra.update(flushes=v[15], flush_time=v[16] / 1000.0)
        result[f[2]] = DiskStats(io_now=v[8], io_time_weighted=v[10] / 1000.0, **extra)  # type: ignore[arg-type]
    return result


def parse_netdev(text: str) -> dict[str, NetDevExtra]:
    """/proc/net/dev -> {interface: NetDevExtra} (two header lines, then `name: 16 counters`)."""
    result: dict[str, NetDevExtra] = {}
    for number, line in enumerate(text.splitlines()[2:], 3):
        name, sep, rest = line.partition(":")
        if not sep:
            continue
        f = rest.split()
        if len(f) < 16:
            raise SystemReadError("/proc/net/dev", f"line {number}: {len(f)} counters, expected 16")
        try:
            v = [int(x) for x in f[:16]]
        except ValueError as exc:
            raise SystemReadError("/proc/net/dev", f"line {number}: {exc}") from exc
        # receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes
        # packets errs drop fifo colls carrier compressed
        result[name.strip()] = NetDevExtra(v[4], v[5], v[6], v[7], v[12], v[13], v[14], v[15])
    return result


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo -> {field: bytes}, the fields counted in kB only (HugePages_* are counts)."""
    result: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        f = rest.split()
        if sep and len(f) == 2 and f[1] == "kB" and f[0].isdigit():
            result[name.strip()] = int(f[0]) * 1024
    if not result:
        raise SystemReadError("/proc/meminfo", "no 'Field: N kB' line")
    return result


def parse_counters(text: str, fields: tuple[str, ...], path: str) -> dict[str, int]:
    """`name value` lines (/proc/vmstat, /proc/stat) -> {name: value} for `fields` present."""
    result: dict[str, int] = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] in fields:
            try:
                result[f[0]] = int(f[1])
            except ValueError as exc:
                raise SystemReadError(path, f"{f[0]}: {exc}") from exc
    return result


def read_diskstats(root: str | os.PathLike[str] = "/") -> dict[str, DiskStats] | None:
    text = _need(read_text(root, "/proc/diskstats"), "/proc/diskstats")
    return None if text is None else parse_diskstats(text)


def read_netdev(root: str | os.PathLike[str] = "/") -> dict[str, NetDevExtra] | None:
    text = _need(read_text(root, "/proc/net/dev"), "/proc/net/dev")
    return None if text is None else parse_netdev(text)


def read_meminfo(root: str | os.PathLike[str] = "/") -> dict[str, int] | None:
    text = _need(read_text(root, "/proc/meminfo"), "/proc/meminfo")
    return None if text is None else parse_meminfo(text)


def read_vmstat(root: str | os.PathLike[str] = "/") -> dict[str, int] | None:
    text = _need(read_text(root, "/proc/vmstat"), "/proc/vmstat")
    return None if text is None else parse_counters(text, VMSTAT_FIELDS, "/proc/vmstat")


def read_stat(root: str | os.PathLike[str] = "/") -> dict[str, int] | None:
    """Forks since boot and processes running/blocked now, from /proc/stat."""
    text = _need(read_text(root, "/proc/stat"), "/proc/stat")
    return None if text is None else parse_counters(text, STAT_FIELDS, "/proc/stat")
