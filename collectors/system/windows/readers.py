"""Windows state as records: Defender, Security Center, accounts, USB policy, hotfixes, software."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collectors.system.runner import Runner
from collectors.system.windows.powershell import as_list, ps_date, run_json

# Fixed scripts, by name. Tests record their JSON output under these names.
SCRIPTS = {
    "mp_status": "Get-MpComputerStatus | Select-Object AMServiceEnabled,AntivirusEnabled,"
    "RealTimeProtectionEnabled,OnAccessProtectionEnabled,AntivirusSignatureAge,"
    "AntivirusSignatureLastUpdated,AntivirusSignatureVersion,QuickScanAge,FullScanAge,"
    "QuickScanEndTime,FullScanEndTime | ConvertTo-Json -Depth 3",
    "av_products": "Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct "
    "-ErrorAction Stop | Select-Object displayName,productState,pathToSignedProductExe,timestamp "
    "| ConvertTo-Json -Depth 3",
    "local_users": "Get-LocalUser | Select-Object Name,Enabled,PasswordRequired,PasswordLastSet,"
    "PasswordExpires,LastLogon,@{n='SID';e={$_.SID.Value}} | ConvertTo-Json -Depth 3",
    "usbstor": "Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\USBSTOR' "
    "-Name Start | Select-Object Start | ConvertTo-Json",
    "removable_policy": "$p='HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\RemovableStorageDevices'; "
    "if (Test-Path $p) { [pscustomobject]@{Deny_All=(Get-ItemProperty $p).Deny_All; "
    "Classes=@(Get-ChildItem $p | ForEach-Object { [pscustomobject]@{Class=$_.PSChildName; "
    "Deny_Read=$_.GetValue('Deny_Read'); Deny_Write=$_.GetValue('Deny_Write')} })} "
    "| ConvertTo-Json -Depth 4 } else { '{}' }",
    "usb_devices": "Get-ChildItem 'HKLM:\\SYSTEM\\CurrentControlSet\\Enum\\USBSTOR' -ErrorAction "
    "SilentlyContinue | ForEach-Object { $d=$_.PSChildName; Get-ChildItem $_.PSPath | "
    "ForEach-Object { [pscustomobject]@{Device=$d; Serial=$_.PSChildName; "
    "FriendlyName=$_.GetValue('FriendlyName')} } } | ConvertTo-Json -Depth 3",
    "hotfixes": "Get-HotFix | Select-Object HotFixID,Description,InstalledOn | ConvertTo-Json -Depth 3",
    "programs": "Get-ItemProperty 'HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*',"
    "'HKLM:\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' "
    "-ErrorAction SilentlyContinue | Where-Object DisplayName | Select-Object DisplayName,"
    "DisplayVersion,Publisher | ConvertTo-Json -Depth 3",
    "processes": "Get-Process | Select-Object -ExpandProperty ProcessName | ConvertTo-Json",
    "screen_lock": "Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies"
    "\\System' | Select-Object InactivityTimeoutSecs | ConvertTo-Json",
    # Windows Update Agent COM API, offline search of what this PC already knows is missing.
    "pending_updates": "$s=(New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher(); "
    "$s.Online=$false; @($s.Search('IsInstalled=0 and IsHidden=0').Updates | ForEach-Object { "
    "[pscustomobject]@{Title=$_.Title; KB=@($_.KBArticleIDs); MsrcSeverity=$_.MsrcSeverity; "
    "Categories=@($_.Categories | ForEach-Object { $_.CategoryID })} }) | ConvertTo-Json -Depth 4",
    # Where Security Center is absent (Windows Server): an antivirus product is known by its service.
    "services": "Get-CimInstance -ClassName Win32_Service | Select-Object Name,DisplayName,State,"
    "StartMode | ConvertTo-Json -Depth 3",
    # Owners of interactive sessions: each logged-on desktop runs explorer.exe as its user.
    "sessions": "@(Get-CimInstance Win32_Process -Filter \"Name='explorer.exe'\" | ForEach-Object { "
    "Invoke-CimMethod -InputObject $_ -MethodName GetOwner } | Select-Object Domain,User) "
    "| ConvertTo-Json -Depth 3",
    "neighbours": "Get-NetNeighbor | Where-Object { $_.LinkLayerAddress -and $_.State -ne 'Unreachable' } "
    "| Select-Object IPAddress,LinkLayerAddress,InterfaceAlias,@{n='State';e={\"$($_.State)\"}} "
    "| ConvertTo-Json -Depth 3",
    "listeners": "Get-NetTCPConnection -State Listen | Select-Object LocalAddress,LocalPort,"
    "OwningProcess | ConvertTo-Json -Depth 3",
}


def read(runner: Runner, name: str) -> Any:
    return run_json(runner, name, SCRIPTS[name])


@dataclass(frozen=True)
class DefenderStatus:
    service_enabled: bool
    antivirus_enabled: bool
    realtime: bool
    on_access: bool
    signature_age_days: int | None
    signature_updated: datetime | None
    signature_version: str
    quick_scan_age_days: int | None
    full_scan_age_days: int | None


def _age(value: Any) -> int | None:
    # Defender reports 4294967295 (uint32 max) or 65535 for "never".
    return int(value) if isinstance(value, int) and 0 <= value < 65535 else None


def parse_mp_status(data: Any) -> DefenderStatus | None:
    item = as_list(data)
    if not item:
        return None
    d = item[0]
    return DefenderStatus(
        service_enabled=bool(d.get("AMServiceEnabled")),
        antivirus_enabled=bool(d.get("AntivirusEnabled")),
        realtime=bool(d.get("RealTimeProtectionEnabled")),
        on_access=bool(d.get("OnAccessProtectionEnabled")),
        signature_age_days=_age(d.get("AntivirusSignatureAge")),
        signature_updated=ps_date(d.get("AntivirusSignatureLastUpdated")),
        signature_version=str(d.get("AntivirusSignatureVersion") or ""),
        quick_scan_age_days=_age(d.get("QuickScanAge")),
        full_scan_age_days=_age(d.get("FullScanAge")),
    )


@dataclass(frozen=True)
class AvProduct:
    """A Security Center antivirus. productState 0xAABBCC: BB 0x10/0x11 = on; CC 0x00 = up to date."""

    name: str
    product_state: int
    enabled: bool
    up_to_date: bool
    path: str


def decode_product_state(state: int) -> tuple[bool, bool]:
    """(enabled, signatures up to date) from WSC productState, e.g. 397568 -> (True, True)."""
    scanner = (state >> 8) & 0xFF
    signatures = state & 0xFF
    return scanner in (0x10, 0x11), signatures == 0x00


def parse_av_products(data: Any) -> list[AvProduct]:
    out = []
    for d in as_list(data):
        state = int(d.get("productState") or 0)
        enabled, current = decode_product_state(state)
        out.append(
            AvProduct(
                str(d.get("displayName", "")),
                state,
                enabled,
                current,
                str(d.get("pathToSignedProductExe") or ""),
            )
        )
    return out


@dataclass(frozen=True)
class LocalUser:
    name: str
    enabled: bool
    password_required: bool
    password_last_set: datetime | None
    password_expires: datetime | None
    sid: str

    @property
    def rid(self) -> int:
        tail = self.sid.rsplit("-", 1)[-1]
        return int(tail) if tail.isdigit() else -1


def parse_local_users(data: Any) -> list[LocalUser]:
    out = []
    for d in as_list(data):
        sid = d.get("SID")
        if isinstance(sid, dict):
            sid = sid.get("Value")
        out.append(
            LocalUser(
                name=str(d.get("Name", "")),
                enabled=bool(d.get("Enabled")),
                password_required=bool(d.get("PasswordRequired")),
                password_last_set=ps_date(d.get("PasswordLastSet")),
                password_expires=ps_date(d.get("PasswordExpires")),
                sid=str(sid or ""),
            )
        )
    return out


# Removable-storage device classes (Group Policy "Removable Storage Access").
CLASS_REMOVABLE_DISK = "{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"
CLASS_CDROM = "{53f56308-b6bf-11d0-94f2-00a0c91efb8b}"
CLASS_FLOPPY = "{53f56311-b6bf-11d0-94f2-00a0c91efb8b}"
CLASS_WPD = ("{6ac27878-a6fa-4155-ba85-f98f491d4f33}", "{f33fdc04-d1ac-4e8e-9a30-19bbd4b108ae}")


@dataclass(frozen=True)
class RemovablePolicy:
    deny_all: bool
    denied_classes: frozenset[str]  # lower-case GUIDs with Deny_Read and Deny_Write set


def parse_removable_policy(data: Any) -> RemovablePolicy:
    d = as_list(data)[0] if as_list(data) else {}
    denied = set()
    for c in as_list(d.get("Classes")):
        if c.get("Deny_Read") == 1 and c.get("Deny_Write") == 1:
            denied.add(str(c.get("Class", "")).lower())
    return RemovablePolicy(d.get("Deny_All") == 1, frozenset(denied))


def parse_usbstor_start(data: Any) -> int | None:
    items = as_list(data)
    value = items[0].get("Start") if items else None
    return int(value) if isinstance(value, int) else None


_USBSTOR_ID = re.compile(r"^(?P<type>[^&]+)&Ven_(?P<ven>[^&]*)&Prod_(?P<prod>[^&]*)(&Rev_(?P<rev>.*))?$")


def parse_usb_devices(data: Any) -> list[dict[str, str]]:
    """Enum\\USBSTOR entries: 'Disk&Ven_Kingston&Prod_DataTraveler_3.0&Rev_PMAP' + serial."""
    out = []
    for d in as_list(data):
        match = _USBSTOR_ID.match(str(d.get("Device", "")))
        serial = str(d.get("Serial", "")).split("&")[0]
        out.append(
            {
                "vendor": match.group("ven").replace("_", " ") if match else "",
                "product": match.group("prod").replace("_", " ") if match else str(d.get("Device", "")),
                "serial": serial,
                "name": str(d.get("FriendlyName") or ""),
            }
        )
    return out


def parse_hotfixes(data: Any) -> list[tuple[str, datetime | None]]:
    return [(str(d.get("HotFixID", "")), ps_date(d.get("InstalledOn"))) for d in as_list(data)]


def parse_programs(data: Any) -> dict[str, str]:
    return {
        str(d["DisplayName"]): str(d.get("DisplayVersion") or "")
        for d in as_list(data)
        if d.get("DisplayName")
    }


def parse_processes(data: Any) -> set[str]:
    items = data if isinstance(data, list) else [data] if data else []
    return {str(p) for p in items if isinstance(p, str)}


def parse_screen_lock(data: Any) -> int | None:
    items = as_list(data)
    value = items[0].get("InactivityTimeoutSecs") if items else None
    return int(value) if isinstance(value, int) else None


def parse_listeners(data: Any) -> list[tuple[str, int]]:
    return [(str(d.get("LocalAddress", "")), int(d.get("LocalPort", 0))) for d in as_list(data)]
