"""A hand-written Linux system tree for the asset register tests (ROOM-5).

Nothing here is recorded from a machine: the sysfs, DMI, procfs and dpkg files are written by
hand in the layout the kernel and dpkg use (attribute files ending in a newline, /sys/block
entries for loop/ram/zram devices that must be skipped, an NVMe disk whose model and serial sit
on the controller (`device/`), a virtio disk whose serial sits on the disk itself, `lo` and a
virtual bridge next to a physical adapter), plus firmware placeholder strings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from collectors.system.runner import CommandResult
from common.errors import CommandNotFound

DPKG_STATUS = """\
Package: adduser
Status: install ok installed
Architecture: all
Version: 3.134

Package: openssh-server
Status: install ok installed
Architecture: amd64
Version: 1:9.2p1-2+deb12u3
Description: secure shell (SSH) server
 continuation line

Package: removed-thing
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
"""
LIST_TIMES = {"adduser.list": 1_700_000_000, "openssh-server:amd64.list": 1_710_000_000}


def write(root: Path, path: str, text: str) -> Path:
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(text, encoding="utf-8")
    return full


def add_package(root: Path, name: str, version: str, arch: str = "amd64", when: int = 1_720_000_000) -> None:
    status = root / "var/lib/dpkg/status"
    status.write_text(
        status.read_text(encoding="utf-8")
        + f"\nPackage: {name}\nStatus: install ok installed\nArchitecture: {arch}\nVersion: {version}\n",
        encoding="utf-8",
    )
    listed = write(root, f"/var/lib/dpkg/info/{name}:{arch}.list", f"/usr/bin/{name}\n")
    os.utime(listed, (when, when))


def linux_tree(root: Path, *, vendor: str = "LENOVO", mac: str = "00:1A:2B:3C:4D:5E") -> Path:
    """A complete small system under `root`."""
    dmi = "/sys/class/dmi/id"
    write(root, f"{dmi}/sys_vendor", f"{vendor}\n")
    write(root, f"{dmi}/product_name", "ThinkCentre M720t\n")
    write(root, f"{dmi}/product_serial", "PC1ABCDE\n")
    write(root, f"{dmi}/board_serial", "To be filled by O.E.M.\n")
    write(root, f"{dmi}/bios_version", "M1UKT4BA\n")
    write(root, "/proc/cpuinfo", "".join(
        f"processor\t: {i}\nvendor_id\t: GenuineIntel\n"
        "model name\t: Intel(R) Core(TM) i5-9500 CPU @ 3.00GHz\n\n"
        for i in range(6)))  # fmt: skip
    write(root, "/proc/meminfo", "MemTotal:       16282116 kB\nMemFree:         1000000 kB\n")
    write(root, "/sys/block/nvme0n1/device/model", "SAMSUNG MZVLB512HBJQ-000L7              \n")
    write(root, "/sys/block/nvme0n1/device/serial", "S4ENNF0M123456      \n")
    write(root, "/sys/block/nvme0n1/wwid", "eui.0025388b91b2c3d4\n")
    write(root, "/sys/block/nvme0n1/size", "1000215216\n")
    write(root, "/sys/block/nvme0n1/removable", "0\n")
    write(root, "/sys/block/vda/serial", "disk-serial-7\n")
    write(root, "/sys/block/vda/device/vendor", "0x1af4\n")
    write(root, "/sys/block/vda/size", "2097152\n")
    write(root, "/sys/block/sda/device/vendor", "Kingston\n")
    write(root, "/sys/block/sda/device/model", "DataTraveler 3.0\n")
    write(root, "/sys/block/sda/removable", "1\n")
    write(root, "/sys/block/sda/size", "60437492\n")
    for skipped in ("loop0", "ram0", "zram0"):
        write(root, f"/sys/block/{skipped}/size", "8\n")
    write(root, "/sys/class/net/lo/address", "00:00:00:00:00:00\n")
    write(root, "/sys/class/net/enp3s0/address", f"{mac.lower()}\n")
    write(root, "/sys/class/net/enp3s0/device/vendor", "0x8086\n")
    write(root, "/sys/class/net/br0/address", "02:42:ac:11:00:01\n")
    write(root, "/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
          'VERSION_ID="12"\nID=debian\n')  # fmt: skip
    write(root, "/etc/hostname", "ward-pc-07\n")
    write(root, "/var/lib/dpkg/status", DPKG_STATUS)
    for name, when in LIST_TIMES.items():
        os.utime(write(root, f"/var/lib/dpkg/info/{name}", "/usr/bin/x\n"), (when, when))
    return root


def set_mac(root: Path, mac: str) -> None:
    write(root, "/sys/class/net/enp3s0/address", f"{mac}\n")


class RecordedRunner:
    """Replays hand-written outputs keyed by argv; any other command is missing (raises)."""

    def __init__(self, outputs: Mapping[tuple[str, ...], bytes]) -> None:
        self.outputs = dict(outputs)

    def run(self, argv: Sequence[str], *, timeout: float, **_: Any) -> CommandResult:
        key = tuple(argv)
        if key not in self.outputs:
            raise CommandNotFound(key[0], f"no recording for {key[-1][:60]!r}")
        return CommandResult(key, 0, self.outputs[key], b"", 0.01)
