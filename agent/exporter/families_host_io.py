"""Per-disk and per-interface families from the stored host record (collectors/host_io.py).

The same detail as node_exporter's diskstats and netdev collectors, in base units (bytes,
seconds). A field the platform does not give (None: no /proc/diskstats on Windows, no discards
before Linux 4.18) is left out of its family, and a family with no sample is not exported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from collectors.host import HostSnapshot

# (attribute, metric name without "hostward_" and "_total", help, counter?)
DISK_FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("reads", "disk_reads_completed", "Reads completed.", True),
    ("writes", "disk_writes_completed", "Writes completed.", True),
    ("read_bytes", "disk_read_bytes", "Bytes read.", True),
    ("write_bytes", "disk_written_bytes", "Bytes written.", True),
    ("read_time", "disk_read_time_seconds", "Time spent by all reads.", True),
    ("write_time", "disk_write_time_seconds", "Time spent by all writes.", True),
    ("reads_merged", "disk_reads_merged", "Adjacent reads merged into one (Linux).", True),
    ("writes_merged", "disk_writes_merged", "Adjacent writes merged into one (Linux).", True),
    ("io_time", "disk_io_time_seconds", "Time the disk was busy with I/O.", True),
    ("io_time_weighted", "disk_io_time_weighted_seconds",
     "Time spent doing I/O, weighted by the I/Os in flight (Linux).", True),
    ("io_now", "disk_io_now", "I/Os in flight now (Linux).", False),
    ("discards", "disk_discards_completed", "Discards (TRIM) completed (Linux).", True),
    ("discards_merged", "disk_discards_merged", "Adjacent discards merged into one (Linux).", True),
    ("discarded_bytes", "disk_discarded_bytes", "Bytes discarded (Linux).", True),
    ("discard_time", "disk_discard_time_seconds", "Time spent by all discards (Linux).", True),
    ("flushes", "disk_flush_requests", "Cache flush requests completed (Linux).", True),
    ("flush_time", "disk_flush_requests_time_seconds", "Time spent by all flush requests (Linux).", True),
)  # fmt: skip
NET_FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("rx_bytes", "network_receive_bytes", "Bytes received.", True),
    ("tx_bytes", "network_transmit_bytes", "Bytes sent.", True),
    ("rx_packets", "network_receive_packets", "Packets received.", True),
    ("tx_packets", "network_transmit_packets", "Packets sent.", True),
    ("rx_errors", "network_receive_errors", "Receive errors.", True),
    ("tx_errors", "network_transmit_errors", "Transmit errors.", True),
    ("rx_drops", "network_receive_drops", "Received packets dropped.", True),
    ("tx_drops", "network_transmit_drops", "Outgoing packets dropped.", True),
    ("rx_fifo", "network_receive_fifo", "Receive FIFO overruns (Linux).", True),
    ("rx_frame", "network_receive_frame", "Frames received with alignment errors (Linux).", True),
    ("rx_compressed", "network_receive_compressed", "Compressed packets received (Linux).", True),
    ("rx_multicast", "network_receive_multicast", "Multicast packets received (Linux).", True),
    ("tx_fifo", "network_transmit_fifo", "Transmit FIFO underruns (Linux).", True),
    ("tx_colls", "network_transmit_collisions", "Collisions while sending (Linux).", True),
    ("tx_carrier", "network_transmit_carrier", "Carrier losses while sending (Linux).", True),
    ("tx_compressed", "network_transmit_compressed", "Compressed packets sent (Linux).", True),
    ("speed_bytes", "network_speed_bytes", "Link speed in bytes per second (absent when unknown).", False),
    ("mtu", "network_mtu_bytes", "Largest packet the interface sends (MTU).", False),
)  # fmt: skip


def _families(
    rows: Sequence[Any], key: str, label: str, fields: Iterable[tuple[str, str, str, bool]]
) -> Iterator[Metric]:
    for attr, name, doc, counter in fields:
        family: Metric
        if counter:
            family = CounterMetricFamily(f"hostward_{name}", doc, labels=(label,))
        else:
            family = GaugeMetricFamily(f"hostward_{name}", doc, labels=(label,))
        for row in rows:
            value = getattr(row, attr)
            if value is not None:
                family.add_metric((getattr(row, key),), value)
        if family.samples:
            yield family


def io_families(host: HostSnapshot) -> Iterator[Metric]:
    yield from _families(host.disks, "device", "device", DISK_FIELDS)
    yield from _families(host.networks, "interface", "interface", NET_FIELDS)
