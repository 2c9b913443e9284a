"""USB storage plugged in, from the Windows Kernel-PnP event log (USB-3), after a record id.

Which log: `Microsoft-Windows-Kernel-PnP/Configuration`, enabled by default on Windows 10/11
and Server 2016+. Event 400 ("Device ... was configured") and 410 ("Device ... was started")
carry `DeviceInstanceId`; a USB stick's disk is `USBSTOR\\Disk&Ven_<v>&Prod_<p>&Rev_<r>\\<serial>&0`.
Both are written at each insertion, so one device's 400 and 410 of the same minute count once.
(DriverFrameworks-UserMode/Operational 2003/2100, the older source, is disabled by default.)
Sources of this choice: the event schema of Kernel-PnP event 400 (fields DeviceInstanceId,
DriverName, ...) as documented on detection-wiki pages, and forensic write-ups (vortexforensic,
artefacts.help) that list 400/410 in the Configuration channel as logged on every connection.

The script takes the bookmark on stdin (nothing templated into it) and answers an envelope of
the log's newest record id and the events; an error other than "no events" is an exit code.
"""

from __future__ import annotations

import re
from typing import Any

from collectors.system.evidence import NoEvidence
from collectors.system.runner import Runner
from collectors.system.windows.powershell import as_list, ps_date, run_json
from common.frozen import frozen

LOG = "Microsoft-Windows-Kernel-PnP/Configuration"
SCRIPT = (
    "$ErrorActionPreference='Stop'; $last=[long]([Console]::In.ReadToEnd().Trim()); "
    '$x="*[System[(EventID=400 or EventID=410) and EventRecordID>$last]]"; '
    "$new=(Get-WinEvent -LogName 'Microsoft-Windows-Kernel-PnP/Configuration' -MaxEvents 1).RecordId; "
    "try { $ev=@(Get-WinEvent -LogName 'Microsoft-Windows-Kernel-PnP/Configuration' -FilterXPath $x "
    "-MaxEvents 500 -Oldest) } catch { if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') "
    "{ $ev=@() } else { throw } }; ConvertTo-Json -Depth 4 -InputObject ([pscustomobject]@{Newest=$new; "
    "Events=@($ev | ForEach-Object { $d=@{}; foreach ($e in ([xml]$_.ToXml()).Event.EventData.Data) "
    "{ $d[$e.Name]=$e.'#text' }; [pscustomobject]@{RecordId=$_.RecordId; Id=$_.Id; "
    "TimeCreated=$_.TimeCreated.ToUniversalTime().ToString('o'); "
    "DeviceInstanceId=$d['DeviceInstanceId']} })})"
)
_USBSTOR = re.compile(
    r"^USBSTOR\\[^&\\]+&Ven_(?P<ven>[^&\\]*)&Prod_(?P<prod>[^&\\]*)(?:&Rev_[^\\]*)?\\(?P<serial>[^\\]+)$",
    re.I,
)


@frozen
class Insertion:
    """A USB storage device plugged in at `ts` (Unix time), from a Kernel-PnP event."""

    ts: float
    vendor: str
    product: str
    serial: str

    def device(self) -> dict[str, str]:
        return {"vendor": self.vendor, "product": self.product, "serial": self.serial}


def parse(data: Any, bookmark: int) -> tuple[list[Insertion], int]:
    """(USB storage insertions, new bookmark). A log whose newest record is below the bookmark
    was cleared: read again from its start."""
    if not isinstance(data, dict) or "Events" not in data:
        raise NoEvidence(
            "pnp_log", "no Kernel-PnP log envelope in the output", "输出中没有 Kernel-PnP 日志数据"
        )
    items = as_list(data.get("Events"))
    newest = data.get("Newest")
    out: list[Insertion] = []
    seen: set[tuple[str, str, str, int]] = set()
    for item in items:
        m = _USBSTOR.match(str(item.get("DeviceInstanceId") or ""))
        when = ps_date(item.get("TimeCreated"))
        if m is None or when is None:
            continue
        vendor, product = (m.group(g).replace("_", " ") for g in ("ven", "prod"))
        found = Insertion(when.timestamp(), vendor, product, m.group("serial").split("&")[0])
        key = (found.vendor, found.product, found.serial, int(found.ts // 60))
        if key not in seen:  # 400 and 410 of one insertion
            seen.add(key)
            out.append(found)
    ids = [int(i.get("RecordId") or 0) for i in items]
    cleared = isinstance(newest, int) and newest < bookmark
    return out, max(ids) if ids else 0 if cleared else bookmark


def read_insertions(runner: Runner, bookmark: int) -> tuple[list[Insertion], int]:
    return parse(run_json(runner, "pnp_log", SCRIPT, stdin=str(int(bookmark)).encode()), bookmark)
