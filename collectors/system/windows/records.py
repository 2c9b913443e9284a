"""Windows state for PATCH-1, the antivirus fallback, USB exemptions and NET-6, as records.

The scripts live in readers.SCRIPTS (pending_updates, services, sessions, neighbours); this
module parses their JSON. File times take their paths on stdin, never templated into a script.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from collectors.system.evidence import NoEvidence
from collectors.system.runner import Runner
from collectors.system.windows.powershell import as_list, ps_date, run_json
from common.frozen import frozen

# Last-write times of files named (as a JSON list of paths or wildcards) on stdin.
FILE_TIMES = (
    "$p = [Console]::In.ReadToEnd() | ConvertFrom-Json; ConvertTo-Json -Depth 3 -InputObject "
    "@(Get-Item -Path $p -Force -ErrorAction SilentlyContinue | Select-Object FullName,LastWriteTimeUtc)"
)


def read_file_times(runner: Runner, paths: tuple[str, ...]) -> list[tuple[str, datetime]]:
    """(path, last write) of each existing file matching `paths` (wildcards allowed)."""
    data = run_json(runner, "file_times", FILE_TIMES, stdin=json.dumps(list(paths)).encode())
    out = []
    for d in as_list(data):
        when = ps_date(d.get("LastWriteTimeUtc"))
        if when is not None:
            out.append((str(d.get("FullName", "")), when))
    return out


SECURITY_UPDATES = "0fa1201d-4330-4fa8-8ae9-b877473b6441"  # WSUS category "Security Updates"


SEARCH_SUCCEEDED = (2, 3)  # OperationResultCode orcSucceeded, orcSucceededWithErrors


def parse_pending_updates(data: Any) -> list[dict[str, Any]]:
    """Pending updates from the search envelope {ResultCode, Updates}; `security` from the
    category GUID (language-independent) or MSRC severity. NoEvidence when no search result
    came back or the search did not succeed: "0 pending" must come from a search that ran."""
    if not isinstance(data, dict) or "ResultCode" not in data or "Updates" not in data:
        raise NoEvidence(
            "pending_updates",
            "no Windows Update search result (ResultCode and Updates missing)",
            "没有 Windows 更新搜索结果（缺少 ResultCode 和 Updates）",
        )
    code = data.get("ResultCode")
    if code not in SEARCH_SUCCEEDED:
        raise NoEvidence(
            "pending_updates",
            f"the Windows Update search did not succeed (result code {code})",
            f"Windows 更新搜索未成功（结果代码 {code}）",
        )
    out = []
    for d in as_list(data.get("Updates")):
        categories = [str(c).lower() for c in (d.get("Categories") or []) if isinstance(c, str)]
        kbs = [str(k) for k in (d.get("KB") or []) if isinstance(k, (str, int))]
        out.append(
            {
                "title": str(d.get("Title") or ""),
                "kb": [k if k.upper().startswith("KB") else f"KB{k}" for k in kbs],
                "severity": str(d.get("MsrcSeverity") or ""),
                "security": SECURITY_UPDATES in categories or bool(d.get("MsrcSeverity")),
            }
        )
    return out


@frozen
class Service:
    """One Windows service: its name, display name, whether it runs, and its start mode."""

    name: str
    display_name: str
    running: bool
    start_mode: str


def parse_services(data: Any) -> list[Service]:
    return [
        Service(
            str(d.get("Name", "")),
            str(d.get("DisplayName") or ""),
            str(d.get("State", "")).lower() == "running",
            str(d.get("StartMode") or ""),
        )
        for d in as_list(data)
    ]


def parse_session_owners(data: Any) -> list[str]:
    """["PC-01\\zhangwei", ...] from GetOwner results (Domain, User), sorted and unique."""
    owners = set()
    for d in as_list(data):
        user = str(d.get("User") or "")
        if user:
            domain = str(d.get("Domain") or "")
            owners.add(f"{domain}\\{user}" if domain else user)
    return sorted(owners)


def parse_neighbours(data: Any) -> list[tuple[str, str, str, str]]:
    """(address, mac, interface, state) from Get-NetNeighbor; MACs as "00-1A-2B-3C-4D-5E"."""
    return [
        (
            str(d.get("IPAddress", "")),
            str(d.get("LinkLayerAddress") or ""),
            str(d.get("InterfaceAlias") or ""),
            str(d.get("State") or ""),
        )
        for d in as_list(data)
        if d.get("LinkLayerAddress")
    ]
