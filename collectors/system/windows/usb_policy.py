"""The USB storage policy as the registry holds it, read with `winreg` (no PowerShell needed).

Two things keep USB storage out of a Windows PC, and USB-1/USB-2 read both:

- `HKLM\\SYSTEM\\CurrentControlSet\\Services\\USBSTOR` value `Start` (DWORD): 4 = the USB mass
  storage driver is disabled; 3 (load on demand) is Windows' default. An absent value (or key)
  is not "blocked": Windows installs the driver with Start=3 at the first stick plugged in.
- Group Policy "Removable Storage Access": `HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\
  RemovableStorageDevices` with `Deny_All`, or per device class `{GUID}` with `Deny_Read`
  and `Deny_Write` (DWORD 1). Phones and cameras (WPD) are not USBSTOR devices: only this
  policy keeps them out.

The readers take a `Registry` (registry.py): the local one on Windows, recorded values in tests.
A registry that cannot be read raises NoEvidence, so the check is `error`, never `pass`.
"""

from __future__ import annotations

from collectors.system.evidence import NoEvidence
from collectors.system.windows.registry import REG_DWORD, Registry, RegistryError, RegValue
from common.frozen import frozen

USBSTOR = r"HKLM\SYSTEM\CurrentControlSet\Services\USBSTOR"
REMOVABLE = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices"

# Removable-storage device classes (Group Policy "Removable Storage Access").
CLASS_REMOVABLE_DISK = "{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"
CLASS_CDROM = "{53f56308-b6bf-11d0-94f2-00a0c91efb8b}"
CLASS_FLOPPY = "{53f56311-b6bf-11d0-94f2-00a0c91efb8b}"
CLASS_WPD = ("{6ac27878-a6fa-4155-ba85-f98f491d4f33}", "{f33fdc04-d1ac-4e8e-9a30-19bbd4b108ae}")
CLASSES = (CLASS_REMOVABLE_DISK, *CLASS_WPD, CLASS_CDROM, CLASS_FLOPPY)


@frozen
class RemovablePolicy:
    """Group Policy's Removable Storage Access: Deny_All, and the device classes denied both ways."""

    deny_all: bool
    denied_classes: frozenset[str]  # lower-case GUIDs with Deny_Read and Deny_Write set


def _get(registry: Registry, where: str, key: str, name: str) -> RegValue | None:
    try:
        return registry.get(key, name)
    except RegistryError as exc:
        raise NoEvidence(where, f"the registry could not be read: {exc}", f"无法读取注册表：{exc}") from exc


def _dword(value: RegValue | None) -> int | None:
    """The number of a DWORD value; None when absent or of another type (a REG_SZ "4" is not
    what the service manager or Group Policy reads)."""
    if value is None or value.kind != REG_DWORD or not isinstance(value.data, int):
        return None
    return value.data


def read_usbstor_start(registry: Registry) -> int | None:
    """USBSTOR's Start; None when it is not set as a DWORD."""
    return _dword(_get(registry, "usbstor", USBSTOR, "Start"))


def read_removable_policy(registry: Registry) -> RemovablePolicy:
    """Deny_All and the known device classes whose Deny_Read and Deny_Write are DWORD 1."""
    deny_all = _dword(_get(registry, "removable_policy", REMOVABLE, "Deny_All")) == 1
    denied = {
        c
        for c in CLASSES
        if all(
            _dword(_get(registry, "removable_policy", f"{REMOVABLE}\\{c}", n)) == 1
            for n in ("Deny_Read", "Deny_Write")
        )
    }
    return RemovablePolicy(deny_all, frozenset(denied))
