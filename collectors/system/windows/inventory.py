r"""Windows asset register readers (ROOM-5).

- Maker, model, serial number and disks: one fixed PowerShell script (Win32_ComputerSystem,
  Win32_BIOS, Win32_DiskDrive), through the JSON runner.
- OS, CPU model and installed software: the registry, read with winreg (no PowerShell, so it
  works where PowerShell is blocked and under Wine):
  `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion` (ProductName, DisplayVersion,
  CurrentBuild, UBR), `HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor\0`, and the
  Uninstall keys of the machine (64-bit and WOW6432Node) and of every loaded user hive
  (`HKU\<sid>\Software\...\Uninstall`: per-user installs of users who are logged on; the
  hives of users who are not are not loaded and are not read).
Entries without DisplayName, system components (SystemComponent=1) and updates that belong to
another product (ParentKeyName) are not programs a person installed, as in "Apps & features".
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from collectors.system.linux.hardware import Cpu, Disk, OsRelease, SystemIdentity, clean
from collectors.system.linux.software import Software
from collectors.system.runner import Runner
from collectors.system.windows.powershell import as_list, run_json
from collectors.system.windows.registry import RegistryReader, RegValue
from common.frozen import frozen

SYSTEM_SCRIPT = (
    "ConvertTo-Json -Depth 3 -InputObject ([pscustomobject]@{"
    "system=@(Get-CimInstance Win32_ComputerSystem -ErrorAction Stop | Select-Object Manufacturer,Model); "
    "bios=@(Get-CimInstance Win32_BIOS -ErrorAction Stop | Select-Object SerialNumber,SMBIOSBIOSVersion); "
    "disks=@(Get-CimInstance Win32_DiskDrive -ErrorAction Stop | Select-Object DeviceID,Model,"
    "SerialNumber,Size,InterfaceType,MediaType)})"
)
CURRENT_VERSION = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
CPU_KEY = r"HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor\0"
UNINSTALL = r"Software\Microsoft\Windows\CurrentVersion\Uninstall"
MACHINE_UNINSTALL = (
    rf"HKLM\{UNINSTALL}",
    r"HKLM\Software\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
)
_USER_SID = re.compile(r"^S-1-5-21-[\d-]+$")  # a user's hive (not its _Classes twin, not services)


@frozen
class WindowsHardware:
    """The machine's identity and disks, as CIM reports them."""

    identity: SystemIdentity | None
    disks: list[Disk]


def parse_system(data: Any) -> WindowsHardware:
    """The SYSTEM_SCRIPT output: identity (None when neither class answered) and disks."""
    d = data if isinstance(data, dict) else {}
    system = (as_list(d.get("system")) or [{}])[0]
    bios = (as_list(d.get("bios")) or [{}])[0]
    identity = None
    if system or bios:
        identity = SystemIdentity(
            vendor=clean(str(system.get("Manufacturer") or "")),
            model=clean(str(system.get("Model") or "")),
            serial=clean(str(bios.get("SerialNumber") or "")),
            bios_version=clean(str(bios.get("SMBIOSBIOSVersion") or "")),
        )
    disks = []
    for disk in as_list(d.get("disks")):
        size = disk.get("Size")
        disks.append(
            Disk(
                name=str(disk.get("DeviceID") or ""),
                vendor="",
                model=clean(str(disk.get("Model") or "")),
                serial=clean(str(disk.get("SerialNumber") or "")),
                wwid="",
                size_bytes=int(size) if isinstance(size, int | float) else 0,
                removable="removable" in str(disk.get("MediaType") or "").lower()
                or str(disk.get("InterfaceType") or "").upper() == "USB",
            )
        )
    return WindowsHardware(identity, disks)


def read_system(runner: Runner) -> WindowsHardware:
    return parse_system(run_json(runner, "inventory_system", SYSTEM_SCRIPT))


def _text(value: RegValue | None) -> str:
    if value is None:
        return ""
    if isinstance(value.data, tuple):
        return " ".join(value.data)
    return str(value.data).strip() if not isinstance(value.data, bytes) else ""


def read_os(registry: RegistryReader) -> OsRelease | None:
    """ "Windows 10 Pro", "22H2", build "19045.3803"; None when the key is absent."""
    values = registry.values(CURRENT_VERSION)
    if not values:
        return None
    name = _text(values.get("ProductName"))
    release = _text(values.get("DisplayVersion")) or _text(values.get("ReleaseId"))
    build = _text(values.get("CurrentBuild")) or _text(values.get("CurrentBuildNumber"))
    ubr = values.get("UBR")
    if build and ubr is not None and isinstance(ubr.data, int):
        build = f"{build}.{ubr.data}"
    # Windows 11 still says "Windows 10" in ProductName; its builds start at 22000.
    if name.startswith("Windows 10") and build.split(".")[0].isdigit() and int(build.split(".")[0]) >= 22000:
        name = "Windows 11" + name.removeprefix("Windows 10")
    return OsRelease(name, release, "windows", build)


def read_cpu(registry: RegistryReader, logical_cpus: int) -> Cpu | None:
    model = clean(_text(registry.get(CPU_KEY, "ProcessorNameString")))
    return Cpu(model, logical_cpus) if model or logical_cpus else None


def install_date(text: str) -> float | None:
    """InstallDate "YYYYMMDD" (local date) as Unix time of its local midnight; None if absent."""
    try:
        return datetime.strptime(text.strip()[:8], "%Y%m%d").timestamp()
    except ValueError:
        return None


def program(values: dict[str, RegValue]) -> Software | None:
    """One Uninstall subkey as Software; None for what "Apps & features" does not list."""
    name = _text(values.get("DisplayName"))
    component = values.get("SystemComponent")
    if not name or (component is not None and component.data == 1) or _text(values.get("ParentKeyName")):
        return None
    return Software(
        name=name,
        version=_text(values.get("DisplayVersion")),
        installed=install_date(_text(values.get("InstallDate"))),
        source="registry",
        publisher=_text(values.get("Publisher")),
    )


def uninstall_keys(registry: RegistryReader) -> list[str]:
    """The machine's Uninstall keys and those of every loaded user hive."""
    users = [f"HKU\\{sid}\\{UNINSTALL}" for sid in registry.subkeys("HKU") if _USER_SID.match(sid)]
    return [*MACHINE_UNINSTALL, *users]


def read_programs(registry: RegistryReader) -> list[Software]:
    """Installed programs, one per (name, version); sorted by name."""
    found: dict[tuple[str, str], Software] = {}
    for key in uninstall_keys(registry):
        for sub in registry.subkeys(key):
            item = program(registry.values(f"{key}\\{sub}"))
            if item is not None:
                found.setdefault((item.name, item.version), item)
    return sorted(found.values(), key=lambda s: (s.name.lower(), s.version))


# Disks present now, as the disk driver lists them: "USBSTOR\Disk&Ven_..&Prod_..&Rev_..\<serial>&0"
# for USB storage (the same names as Enum\USBSTOR, which also keeps devices long gone).
DISK_ENUM = r"HKLM\SYSTEM\CurrentControlSet\Services\disk\Enum"
_USBSTOR_INSTANCE = re.compile(
    r"^USBSTOR\\(?P<type>[^&\\]+)&Ven_(?P<ven>[^&\\]*)&Prod_(?P<prod>[^&\\]*)(&Rev_[^\\]*)?\\(?P<serial>[^\\]+)$",
    re.I,
)


def parse_disk_enum(values: dict[str, RegValue]) -> list[dict[str, str]]:
    """USB storage devices among the disks present: vendor, product, serial as USB-3's history
    records them (underscores as spaces, the instance suffix "&0" dropped)."""
    out = []
    for name, value in sorted(values.items()):
        if not name.isdigit() or not isinstance(value.data, str):
            continue
        match = _USBSTOR_INSTANCE.match(value.data.strip())
        if match:
            out.append({
                "vendor": match.group("ven").replace("_", " "),
                "product": match.group("prod").replace("_", " "),
                "serial": match.group("serial").split("&")[0],
            })  # fmt: skip
    return out


def read_present_usb_storage(registry: RegistryReader) -> list[dict[str, str]]:
    return parse_disk_enum(registry.values(DISK_ENUM))
