"""Helpers shared by the exporter and e2e tests (a module of its own: conftest is not importable)."""

from __future__ import annotations

import socket
from typing import Any

from testkit import free_port  # noqa: F401

FAKE_HOST: dict[str, Any] = {
    "version": 1,
    "taken": 1_795_400_000.0,
    "hostname": "ward-pc-01",
    "cpu_seconds": {"user": 100.5, "system": 50.25, "idle": 1000.0, "iowait": 2.0},
    "cpu_count": 4,
    "cpu_percent": 37.5,
    "load": {"load1": 0.5, "load5": 0.25, "load15": 0.125},
    "memory": {"total": 8_000_000_000, "available": 6_000_000_000, "used": 1_500_000_000,
               "free": 4_000_000_000, "buffers": 100_000_000, "cached": 900_000_000},
    "swap": {"total": 2_000_000_000, "used": 500_000_000, "free": 1_500_000_000, "sin": 4096, "sout": 8192},
    "filesystems": [
        {"device": "/dev/sda1", "mountpoint": "/", "fstype": "ext4", "size": 100_000_000_000,
         "free": 40_000_000_000, "avail": 35_000_000_000, "files": 6_000_000, "files_free": 5_000_000},
        {"device": "/dev/sdb1", "mountpoint": "/srv/his-data", "fstype": "xfs", "size": 500_000_000_000,
         "free": 20_000_000_000, "avail": 20_000_000_000, "files": 1_000_000, "files_free": 900_000},
    ],
    "disks": [{"device": "sda", "read_bytes": 10_000, "write_bytes": 20_000, "reads": 10, "writes": 20,
               "io_time": 1.5}],
    "networks": [{"interface": "eth0", "rx_bytes": 123_456, "tx_bytes": 654_321, "rx_packets": 100,
                  "tx_packets": 200, "rx_errors": 1, "tx_errors": 0, "rx_drops": 2, "tx_drops": 0}],
    "boot_time": 1_795_300_000.0,
    "temperatures": [{"sensor": "coretemp", "label": "Package id 0", "celsius": 48.0, "high": 80.0,
                      "critical": 100.0}],
    "fans": [{"sensor": "thinkpad", "label": "0", "rpm": 2100.0}],
    "processes": 187,
    "users": ["alice", "bob"],
    "errors": {},
    "cpus": [{"user": 60.5, "system": 30.25, "idle": 500.0, "iowait": 1.0, "guest": 3.0},
             {"user": 40.0, "system": 20.0, "idle": 500.0, "iowait": 1.0, "guest": 0.0}],
    "cpu_stats": {"ctx_switches": 1_000_000, "interrupts": 500_000, "soft_interrupts": 250_000,
                  "processes": 4_000, "procs_running": 2, "procs_blocked": 0},
    "durations": {"cpu": 0.0001, "disks": 0.002, "networks": 0.0005},
}  # fmt: skip


def raw_get(address: tuple[str, int], path: str = "/metrics", headers: str = "", timeout: float = 5) -> bytes:
    """One HTTP/1.1 request over a fresh socket; the whole answer (the server closes)."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])
