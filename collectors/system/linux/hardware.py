"""Hardware of a Linux system under a root, for the asset register (ROOM-5): SMBIOS/DMI, CPU,
memory, disks and network adapters, all read from sysfs/procfs files (no command, no psutil),
so a fixture tree or a mounted image is read by the same code as the live host.

Sizes are in bytes. Missing attributes are "" (many virtual disks have no model or serial);
whether a whole reading is empty is the caller's judgement (collectors/inventory).
"""

from __future__ import annotations

import os
import re

from collectors.system.files import exists, list_dir, read_text
from common.frozen import frozen

DMI = "/sys/class/dmi/id"
# Placeholders firmware writes where the maker left a field empty: not a serial number.
_PLACEHOLDERS = frozenset({
    "", "to be filled by o.e.m.", "default string", "system serial number", "not specified",
    "not applicable", "none", "0", "0123456789", "none none", "system product name",
    "system manufacturer", "o.e.m.", "chassis serial number", "123456789",
})  # fmt: skip
_SKIPPED_DISKS = ("loop", "ram", "zram", "fd", "sr")
SECTOR = 512  # /sys/block/*/size counts 512-byte sectors whatever the device's own sector size


@frozen
class SystemIdentity:
    """The machine's maker, model, serial number and BIOS version (SMBIOS/DMI)."""

    vendor: str
    model: str
    serial: str
    bios_version: str


@frozen
class Cpu:
    """The processor model and its number of logical CPUs."""

    model: str
    logical_cpus: int


@frozen
class Disk:
    """One disk: its maker, model, serial, WWID, size in bytes, and whether it is removable."""

    name: str
    vendor: str
    model: str
    serial: str
    wwid: str
    size_bytes: int
    removable: bool


@frozen
class Adapter:
    """One network adapter and its MAC address."""

    name: str
    mac: str
    physical: bool  # backed by a device (not a bridge, veth, tunnel ...)
    description: str = ""


def clean(value: str | None) -> str:
    """A firmware string stripped; placeholders ("To be filled by O.E.M.") become ""."""
    text = " ".join((value or "").split())
    return "" if text.lower() in _PLACEHOLDERS else text


def _attr(root: str | os.PathLike[str], path: str) -> str:
    return clean(read_text(root, path, limit=64 * 1024))


def read_dmi(root: str | os.PathLike[str] = "/", *, serial: bool = True) -> SystemIdentity | None:
    """Vendor, model and serial number from SMBIOS; None when the system exposes no DMI table.
    `product_serial` is readable by root only: a normal user gets ReadDenied, never "" (with
    `serial=False` the rest is read and the serial left "")."""
    if not exists(root, DMI):
        return None
    return SystemIdentity(
        vendor=_attr(root, f"{DMI}/sys_vendor") or _attr(root, f"{DMI}/board_vendor"),
        model=_attr(root, f"{DMI}/product_name") or _attr(root, f"{DMI}/board_name"),
        serial=(_attr(root, f"{DMI}/product_serial") or _attr(root, f"{DMI}/board_serial")) if serial else "",
        bios_version=_attr(root, f"{DMI}/bios_version"),
    )


def read_cpu(root: str | os.PathLike[str] = "/") -> Cpu | None:
    """The CPU model and logical CPU count from /proc/cpuinfo; None when it is absent."""
    text = read_text(root, "/proc/cpuinfo")
    if text is None:
        return None
    models, count = [], 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "processor":
            count += 1
        elif key in ("model name", "hardware", "cpu model", "uarch") and value.strip():
            models.append(" ".join(value.split()))
    return Cpu(models[0] if models else "", count)


def read_memory_total(root: str | os.PathLike[str] = "/") -> int | None:
    """MemTotal from /proc/meminfo in bytes; None when it is absent or holds no MemTotal."""
    text = read_text(root, "/proc/meminfo")
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text or "", re.M)
    return int(match.group(1)) * 1024 if match else None


def _first(root: str | os.PathLike[str], *paths: str) -> str:
    for path in paths:
        value = _attr(root, path)
        if value:
            return value
    return ""


def read_disks(root: str | os.PathLike[str] = "/") -> list[Disk]:
    """Block devices (not loop, ram, zram, floppy or optical) with vendor, model, serial,
    WWID and size. NVMe keeps model and serial on the controller (`device/`), virtio its serial
    on the disk itself: both places are read."""
    out = []
    for name in list_dir(root, "/sys/block"):
        if name.startswith(_SKIPPED_DISKS):
            continue
        base = f"/sys/block/{name}"
        size = _attr(root, f"{base}/size")
        vendor = _attr(root, f"{base}/device/vendor")
        out.append(
            Disk(
                name=name,
                vendor="" if re.fullmatch(r"0x[0-9a-f]{4}", vendor) else vendor,  # a PCI id
                model=_first(root, f"{base}/device/model", f"{base}/model"),
                serial=_first(root, f"{base}/device/serial", f"{base}/serial"),
                wwid=_first(root, f"{base}/wwid", f"{base}/device/wwid"),
                size_bytes=int(size) * SECTOR if size.isdigit() else 0,
                removable=_attr(root, f"{base}/removable") == "1",
            )
        )
    return out


def read_adapters(root: str | os.PathLike[str] = "/") -> list[Adapter]:
    """Network interfaces but `lo`, with their MAC address (lower case, colon-separated)."""
    out = []
    for name in list_dir(root, "/sys/class/net"):
        if name == "lo" or not exists(root, f"/sys/class/net/{name}/address"):
            continue
        mac = _attr(root, f"/sys/class/net/{name}/address").lower()
        out.append(Adapter(name, mac, exists(root, f"/sys/class/net/{name}/device")))
    return out


@frozen
class OsRelease:
    """The operating system's name, version, id and (Windows) build."""

    name: str  # "Debian GNU/Linux 12 (bookworm)", "Windows 10 Pro"
    version: str  # "12", "22H2"
    id: str  # "debian", "windows"
    build: str = ""  # Windows: "19045.3803" (changes with every monthly update)


def parse_os_release(text: str) -> OsRelease:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            fields[key] = value.strip().strip("\"'")
    name = fields.get("PRETTY_NAME") or fields.get("NAME", "")
    return OsRelease(name, fields.get("VERSION_ID", "") or fields.get("VERSION", ""), fields.get("ID", ""))


def read_os_release(root: str | os.PathLike[str] = "/") -> OsRelease | None:
    """/etc/os-release (or /usr/lib/os-release); None when neither exists."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        text = read_text(root, path, limit=64 * 1024)
        if text is not None:
            return parse_os_release(text)
    return None
