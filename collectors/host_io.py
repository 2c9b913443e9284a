"""Disk and network I/O of the host, per device and per interface, for collectors/host.py.

The portable counters come from psutil (Linux, Windows). On Linux the kernel's files add what
node_exporter's diskstats and netdev collectors export beyond them (I/Os in flight, weighted
I/O time, discards, flushes; FIFO, frame, multicast, carrier and collision counts): see
collectors/system/linux/procstats.py. Fields a platform does not give stay None and are not
exported, never 0.

What is left out, to keep cardinality sane (node_exporter's default ignore patterns, a little
stricter):
- disks: loop, ram, zram, dm- (device-mapper: counted again in the disks below it), nbd and fd
  devices, and partitions (on Linux, only names in /sys/block are whole disks; node_exporter
  ignores `^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$`);
- interfaces: the loopback (`lo`, Windows' "Loopback Pseudo-Interface ...").
"""

from __future__ import annotations

import os
import sys

import psutil

from common.frozen import frozen

LINUX = sys.platform.startswith("linux")
VIRTUAL_DISK_PREFIXES = ("loop", "ram", "zram", "dm-", "nbd", "fd")


@frozen
class DiskIO:
    """One disk's I/O since boot: bytes, operations and times in seconds (None where the OS does not
    count them)."""

    device: str
    read_bytes: int
    write_bytes: int
    reads: int
    writes: int
    io_time: float  # seconds the disk was busy (Linux); read+write time elsewhere
    read_time: float | None = None  # seconds spent by all reads
    write_time: float | None = None
    reads_merged: int | None = None  # Linux
    writes_merged: int | None = None
    io_now: int | None = None  # Linux, from here on: /proc/diskstats
    io_time_weighted: float | None = None
    discards: int | None = None
    discards_merged: int | None = None
    discarded_bytes: int | None = None
    discard_time: float | None = None
    flushes: int | None = None
    flush_time: float | None = None


@frozen
class NetIO:
    """One network interface's traffic since boot, its link state, speed and MTU (None where unknown)."""

    interface: str
    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int
    rx_errors: int
    tx_errors: int
    rx_drops: int
    tx_drops: int
    up: bool | None = None  # up with a link (carrier); None where the state could not be read
    speed_bytes: int | None = None  # link speed in bytes per second; None when unknown (0 Mb/s)
    mtu: int | None = None
    rx_fifo: int | None = None  # Linux, from here on: /proc/net/dev
    rx_frame: int | None = None
    rx_compressed: int | None = None
    rx_multicast: int | None = None
    tx_fifo: int | None = None
    tx_colls: int | None = None
    tx_carrier: int | None = None
    tx_compressed: int | None = None


def is_physical_disk(name: str) -> bool:
    if name.startswith(VIRTUAL_DISK_PREFIXES):
        return False
    if os.path.isdir("/sys/block"):  # Linux: whole disks are in /sys/block, partitions are not
        return os.path.exists(os.path.join("/sys/block", name.replace("/", "!")))
    return True


def read_disks() -> tuple[DiskIO, ...]:
    counters = psutil.disk_io_counters(perdisk=True) or {}
    extra = {}
    if LINUX:
        from collectors.system.linux.procstats import read_diskstats

        extra = read_diskstats() or {}
    disks = []
    for name, c in sorted(counters.items()):
        if not is_physical_disk(name):
            continue
        busy_ms = getattr(c, "busy_time", None)
        io_ms = busy_ms if busy_ms is not None else c.read_time + c.write_time
        more = extra.get(name)
        disks.append(
            DiskIO(
                device=name,
                read_bytes=c.read_bytes,
                write_bytes=c.write_bytes,
                reads=c.read_count,
                writes=c.write_count,
                io_time=io_ms / 1000.0,
                read_time=c.read_time / 1000.0,
                write_time=c.write_time / 1000.0,
                reads_merged=getattr(c, "read_merged_count", None),
                writes_merged=getattr(c, "write_merged_count", None),
                **({} if more is None else vars(more)),
            )
        )
    return tuple(disks)


def _link_states() -> dict[str, tuple[bool, int | None, int | None]]:
    """Interface -> (up with a link, speed in bytes/s or None, MTU or None). psutil's `isup` is
    IFF_RUNNING on Linux (administratively up and carrier present) and the adapter's
    operational status on Windows; its speed is in Mb/s, 0 when unknown."""
    try:
        stats = psutil.net_if_stats()
    except (OSError, psutil.Error):  # the counters still stand; the state is left unknown
        return {}
    return {
        name: (bool(s.isup), s.speed * 125_000 if s.speed > 0 else None, s.mtu if s.mtu > 0 else None)
        for name, s in stats.items()
    }


def read_networks() -> tuple[NetIO, ...]:
    counters = psutil.net_io_counters(pernic=True) or {}
    states = _link_states()
    extra = {}
    if LINUX:
        from collectors.system.linux.procstats import read_netdev

        extra = read_netdev() or {}
    result = []
    for name, c in sorted(counters.items()):
        if name == "lo" or name.startswith("Loopback"):
            continue
        up, speed, mtu = states.get(name, (None, None, None))
        more = extra.get(name)
        result.append(
            NetIO(
                interface=name,
                rx_bytes=c.bytes_recv,
                tx_bytes=c.bytes_sent,
                rx_packets=c.packets_recv,
                tx_packets=c.packets_sent,
                rx_errors=c.errin,
                tx_errors=c.errout,
                rx_drops=c.dropin,
                tx_drops=c.dropout,
                up=up,
                speed_bytes=speed,
                mtu=mtu,
                **({} if more is None else vars(more)),
            )
        )
    return tuple(result)
