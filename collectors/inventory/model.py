"""The asset register of one host (ROOM-5) as records: sections of typed items.

Each section says whether it was read (`ok`), could not be read or read nothing where a real
host has something (`error`, with the reason in English and Chinese: reading nothing is not
evidence), or does not exist where it was read (`unavailable`: the hardware of an offline disk
image, the USB history of a root that is not this host's). A section may hold items and an
error together (the DMI vendor read, its serial number denied to a normal user).
"""

from __future__ import annotations

from dataclasses import asdict, field
from typing import Any, Literal

from common.frozen import frozen

Status = Literal["ok", "error", "unavailable"]

# Section id -> (Chinese label, English label), in display order.
SECTIONS: dict[str, tuple[str, str]] = {
    "system": ("整机", "System"),
    "os": ("操作系统", "Operating system"),
    "cpu": ("处理器", "CPU"),
    "memory": ("内存", "Memory"),
    "disks": ("磁盘", "Disks"),
    "adapters": ("网卡", "Network adapters"),
    "software": ("已安装软件", "Installed software"),
    "usb_storage": ("USB 存储设备", "USB storage devices seen"),
    "devices": ("机房设备", "Machine-room devices (ENTITY-MIB)"),
}
# The field of an item that names it in the table, the CSV and change detection.
NAME_FIELD = {
    "system": "model",
    "os": "name",
    "cpu": "model",
    "memory": "total_bytes",
    "disks": "name",
    "adapters": "name",
    "software": "name",
    "usb_storage": "serial",
    "devices": "device",
}


@frozen
class Memory:
    """The host's installed memory in bytes."""

    total_bytes: int


@frozen
class UsbSeen:
    """A USB storage device, and when it was first and last seen (Unix time)."""

    vendor: str
    product: str
    serial: str
    first_seen: float
    last_seen: float


@frozen
class Section:
    """One section of the register, read or not: its status and items, and why it could not be read
    (en, zh)."""

    name: str
    status: Status
    items: tuple[Any, ...] = ()  # frozen dataclasses (hardware.Disk, software.Software, ...)
    en: str = ""  # why `error` or `unavailable`
    zh: str = ""

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "items": [asdict(i) for i in self.items]}
        if self.en or self.zh:
            out["reason"] = {"en": self.en, "zh": self.zh}
        return out


def ok(name: str, items: list[Any] | tuple[Any, ...]) -> Section:
    return Section(name, "ok", tuple(items))


def error(name: str, en: str, zh: str, items: tuple[Any, ...] = ()) -> Section:
    return Section(name, "error", items, en, zh)


def unavailable(name: str, en: str, zh: str) -> Section:
    return Section(name, "unavailable", (), en, zh)


@frozen
class Inventory:
    """The asset register of one host, section by section, when (Unix time) and from which root it was
    taken; `live` is the running system, not a mounted image."""

    host: str
    taken: float
    platform: str  # "linux" or "windows"
    root: str
    live: bool
    sections: dict[str, Section] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "taken": self.taken,
            "platform": self.platform,
            "root": self.root,
            "live": self.live,
            "sections": {
                name: self.sections[name].to_payload() for name in SECTIONS if name in self.sections
            },
        }


def identity(payload: dict[str, Any]) -> dict[str, str]:
    """vendor, model, serial and os of a stored inventory, "" where unknown (the host_info labels)."""
    sections = payload.get("sections") if isinstance(payload.get("sections"), dict) else {}
    assert isinstance(sections, dict)

    def first(section: str) -> dict[str, Any]:
        items = (sections.get(section) or {}).get("items") or []
        return items[0] if items and isinstance(items[0], dict) else {}

    system, os_ = first("system"), first("os")
    name, version = str(os_.get("name", "")), str(os_.get("version", ""))
    os_text = name if version in name else f"{name} {version}".strip()
    return {
        "vendor": str(system.get("vendor", "")),
        "model": str(system.get("model", "")),
        "serial": str(system.get("serial", "")),
        "os": os_text,
    }
