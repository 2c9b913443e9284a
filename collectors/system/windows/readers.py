"""Windows state as records: Defender, Security Center, accounts, USB devices, hotfixes, software.

The USB storage policy is read from the registry directly: usb_policy.py."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from collectors.system.evidence import require
from collectors.system.runner import Runner
from collectors.system.windows.powershell import as_list, entries, ps_date, run_json
from common.frozen import frozen

# Fixed scripts, by name. Tests record their JSON output under these names.
SCRIPTS = {
    "mp_status": "Get-MpComputerStatus | Select-Object AMServiceEnabled,AntivirusEnabled,"
    "RealTimeProtectionEnabled,OnAccessProtectionEnabled,AntivirusSignatureAge,"
    "AntivirusSignatureLastUpdated,AntivirusSignatureVersion,QuickScanAge,FullScanAge,"
    "QuickScanEndTime,FullScanEndTime | ConvertTo-Json -Depth 3",
    "av_products": "ConvertTo-Json -Depth 3 -InputObject @(Get-CimInstance -Namespace root/SecurityCenter2 "
    "-ClassName AntiVirusProduct -ErrorAction Stop | Select-Object displayName,productState,"
    "pathToSignedProductExe,timestamp)",
    "local_users": "ConvertTo-Json -Depth 3 -InputObject @(Get-LocalUser | Select-Object Name,Enabled,"
    "PasswordRequired,PasswordLastSet,PasswordExpires,LastLogon,@{n='SID';e={$_.SID.Value}})",
    "usb_devices": "ConvertTo-Json -Depth 3 -InputObject @(Get-ChildItem "
    "'HKLM:\\SYSTEM\\CurrentControlSet\\Enum\\USBSTOR' -ErrorAction SilentlyContinue | ForEach-Object { "
    "$d=$_.PSChildName; Get-ChildItem $_.PSPath | ForEach-Object { [pscustomobject]@{Device=$d; "
    "Serial=$_.PSChildName; FriendlyName=$_.GetValue('FriendlyName')} } })",
    "hotfixes": "ConvertTo-Json -Depth 3 -InputObject @(Get-HotFix | Select-Object HotFixID,Description,"
    "InstalledOn)",
    "programs": "ConvertTo-Json -Depth 3 -InputObject @(Get-ItemProperty "
    "'HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*',"
    "'HKLM:\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' "
    "-ErrorAction SilentlyContinue | Where-Object DisplayName | Select-Object DisplayName,"
    "DisplayVersion,Publisher)",
    # Programs installed for one user only (per-user Uninstall keys of every loaded profile).
    "user_programs": "ConvertTo-Json -Depth 3 -InputObject @(Get-ItemProperty "
    "'Registry::HKEY_USERS\\*\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' "
    "-ErrorAction SilentlyContinue | Where-Object DisplayName | Select-Object DisplayName,"
    "DisplayVersion,Publisher)",
    "processes": "ConvertTo-Json -InputObject @(Get-Process | Select-Object -ExpandProperty ProcessName)",
    "screen_lock": "Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies"
    "\\System' | Select-Object InactivityTimeoutSecs | ConvertTo-Json",
    # Windows Update Agent COM API, offline search of what this PC already knows is missing.
    # The search result's ResultCode (2 succeeded, 3 with errors) proves the search ran.
    "pending_updates": "$s=(New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher(); "
    "$s.Online=$false; $r=$s.Search('IsInstalled=0 and IsHidden=0'); ConvertTo-Json -Depth 4 "
    "-InputObject ([pscustomobject]@{ResultCode=[int]$r.ResultCode; Updates=@($r.Updates | "
    "ForEach-Object { [pscustomobject]@{Title=$_.Title; KB=@($_.KBArticleIDs); "
    "MsrcSeverity=$_.MsrcSeverity; Categories=@($_.Categories | ForEach-Object { $_.CategoryID })} })})",
    # Where Security Center is absent (Windows Server): an antivirus product is known by its service.
    "services": "ConvertTo-Json -Depth 3 -InputObject @(Get-CimInstance -ClassName Win32_Service | "
    "Select-Object Name,DisplayName,State,StartMode)",
    # Owners of interactive sessions: each logged-on desktop runs explorer.exe as its user.
    "sessions": "ConvertTo-Json -Depth 3 -InputObject @(Get-CimInstance Win32_Process -Filter "
    "\"Name='explorer.exe'\" | ForEach-Object { Invoke-CimMethod -InputObject $_ -MethodName GetOwner } "
    "| Select-Object Domain,User)",
    "neighbours": "ConvertTo-Json -Depth 3 -InputObject @(Get-NetNeighbor | Where-Object { "
    "$_.LinkLayerAddress -and $_.State -ne 'Unreachable' } | Select-Object IPAddress,LinkLayerAddress,"
    "InterfaceAlias,@{n='State';e={\"$($_.State)\"}})",
    "listeners": "ConvertTo-Json -Depth 3 -InputObject @(Get-NetTCPConnection -State Listen | "
    "Select-Object LocalAddress,LocalPort,OwningProcess)",
}


# Readings that cannot be empty on a real Windows: an empty one means the reader saw nothing.
NEVER_EMPTY = {
    "local_users": (
        "Get-LocalUser listed no account (every Windows has Administrator and Guest)",
        "Get-LocalUser 没有列出任何账户（每台 Windows 都有 Administrator 和 Guest）",
    ),
    "programs": (
        "the Uninstall registry keys list no installed program: no software inventory",
        "注册表 Uninstall 项中没有任何已安装程序：无法获得软件清单",
    ),
    "processes": ("Get-Process listed no process", "Get-Process 没有列出任何进程"),
    "hotfixes": ("Get-HotFix listed no update at all", "Get-HotFix 没有列出任何补丁"),
    "services": ("Win32_Service listed no service", "Win32_Service 没有列出任何服务"),
    "listeners": (
        "Get-NetTCPConnection listed no listening port (Windows always listens on RPC 135)",
        "Get-NetTCPConnection 没有列出监听端口（Windows 总会监听 RPC 135）",
    ),
    "neighbours": (
        "Get-NetNeighbor listed no neighbour (not even the broadcast entry)",
        "Get-NetNeighbor 没有列出任何邻居（连广播条目都没有）",
    ),
}


def read(runner: Runner, name: str) -> Any:
    """The parsed output of script `name`; NoEvidence when it is empty where it cannot be."""
    data = run_json(runner, name, SCRIPTS[name])
    if name in NEVER_EMPTY:
        en, zh = NEVER_EMPTY[name]
        require(entries(data), name, en, zh)
    return data


@frozen
class DefenderStatus:
    """Microsoft Defender's state (Get-MpComputerStatus): protection on or off, signature and scan
    ages in days (None: never or unknown)."""

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


@frozen
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


@frozen
class LocalUser:
    """A local Windows account: enabled, password required, when it was set and expires, its SID."""

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
