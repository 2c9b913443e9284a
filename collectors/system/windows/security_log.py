"""Windows logons from the Security event log: 4624, 4625, 4634 and 4672, after a record id.

One fixed script (no data templated into it: the bookmark comes on stdin) reads the events whose
EventRecordID is above the bookmark, oldest first, at most MAX_EVENTS a run, each with its
EventData as name/value pairs (from the event's XML, so the names are the schema's:
TargetUserName, LogonType, IpAddress, ...). The envelope carries the log's oldest and newest
record ids, so a log that wrapped past the bookmark, or was cleared, is seen (`gap`) and not
mistaken for quiet. An access error is an exit code (NoEvidence), never an empty list:
"No events were found" is the only error the script turns into an empty answer.

Noise left out: logons of the machine itself and of services (SYSTEM, LOCAL SERVICE, NETWORK
SERVICE, machine accounts ending in $, DWM-n / UMFD-n window-manager sessions) and 4624/4634
logon types other than interactive (2), network (3), unlock (7), network cleartext (8), remote
desktop (10) and cached (11). Every 4625 is kept.
"""

from __future__ import annotations

from typing import Any

from collectors.access import AccessEvent
from collectors.system.evidence import NoEvidence
from collectors.system.runner import Runner
from collectors.system.windows.powershell import as_list, ps_date, run_json
from common.frozen import frozen

MAX_EVENTS = 2000
SCRIPT = (
    "$ErrorActionPreference='Stop'; $last=[long]([Console]::In.ReadToEnd().Trim()); "
    '$x="*[System[(EventID=4624 or EventID=4625 or EventID=4634 or EventID=4672) and '
    'EventRecordID>$last]]"; '
    "$old=(Get-WinEvent -LogName Security -MaxEvents 1 -Oldest).RecordId; "
    "$new=(Get-WinEvent -LogName Security -MaxEvents 1).RecordId; "
    "try { $ev=@(Get-WinEvent -LogName Security -FilterXPath $x -MaxEvents 2000 -Oldest) } "
    "catch { if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { $ev=@() } else { throw } }; "
    "ConvertTo-Json -Depth 4 -InputObject ([pscustomobject]@{Oldest=$old; Newest=$new; Events=@($ev | "
    "ForEach-Object { $d=@{}; foreach ($e in ([xml]$_.ToXml()).Event.EventData.Data) "
    "{ $d[$e.Name]=$e.'#text' }; [pscustomobject]@{RecordId=$_.RecordId; Id=$_.Id; "
    "TimeCreated=$_.TimeCreated.ToUniversalTime().ToString('o'); Data=$d} })})"
)
_SYSTEM_SIDS = frozenset({"S-1-5-18", "S-1-5-19", "S-1-5-20"})
_PEOPLE_LOGON_TYPES = frozenset({"2", "3", "7", "8", "10", "11"})


@frozen
class SecurityRead:
    """One read of the Security log: the access events, the record id to read after next time, why
    some may be missing (`gap`), and whether more is waiting."""

    events: list[AccessEvent]
    last_record: int  # the new bookmark
    gap: str = ""
    more: bool = False  # MAX_EVENTS reached: read again


def _machine(user: str, sid: str) -> bool:
    upper = user.upper()
    return (
        sid in _SYSTEM_SIDS
        or not user
        or user == "-"
        or user.endswith("$")
        or upper.startswith(("DWM-", "UMFD-"))
        or upper in ("SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE", "ANONYMOUS LOGON")
    )


def _who(data: dict[str, Any], prefix: str) -> tuple[str, str]:
    user = str(data.get(f"{prefix}UserName") or "")
    domain = str(data.get(f"{prefix}DomainName") or "")
    return user, (f"{domain}\\{user}" if domain and domain != "-" and user else user)


def event_of(item: dict[str, Any]) -> AccessEvent | None:
    """The access event of one script item, None for noise or an item without a time."""
    when = ps_date(item.get("TimeCreated"))
    data = item.get("Data") if isinstance(item.get("Data"), dict) else {}
    assert isinstance(data, dict)
    if when is None:
        return None
    ts, event_id = when.timestamp(), int(item.get("Id") or 0)
    logon_type = str(data.get("LogonType") or "")
    host = str(data.get("IpAddress") or "")
    host = "" if host in ("-", "::1", "127.0.0.1") else host
    detail = {"event_id": str(event_id), "record_id": str(item.get("RecordId", ""))}
    if logon_type:
        detail["logon_type"] = logon_type
    if event_id == 4625:
        name, full = _who(data, "Target")
        detail["status"] = str(data.get("SubStatus") or data.get("Status") or "")
        return AccessEvent(ts, "failed_login", full, "security", "windows", host, detail)
    if event_id in (4624, 4634):
        name, full = _who(data, "Target")
        if _machine(name, str(data.get("TargetUserSid") or "")) or logon_type not in _PEOPLE_LOGON_TYPES:
            return None
        kind = "login" if event_id == 4624 else "logout"
        return AccessEvent(ts, kind, full, "security", "windows", host, detail)
    if event_id == 4672:
        name, full = _who(data, "Subject")
        if _machine(name, str(data.get("SubjectUserSid") or "")):
            return None
        privileges = " ".join(str(data.get("PrivilegeList") or "").split())
        detail["privileges"] = privileges[:200]
        return AccessEvent(ts, "privilege", full, "security", "windows", "", detail)
    return None


def parse(data: Any, bookmark: int) -> SecurityRead:
    """The script's envelope, read after record id `bookmark`."""
    if not isinstance(data, dict) or "Events" not in data:
        raise NoEvidence("security_log", "no Security log envelope in the output", "输出中没有安全日志数据")
    items = as_list(data.get("Events"))
    oldest, newest = data.get("Oldest"), data.get("Newest")
    gap, cleared = "", isinstance(newest, int) and newest < bookmark
    if cleared:
        gap = f"the Security log was cleared (newest record {newest} < bookmark {bookmark})"
    elif isinstance(oldest, int) and bookmark and oldest > bookmark + 1:
        gap = f"the Security log wrapped: records {bookmark + 1}..{oldest - 1} were overwritten unread"
    ids = [int(i.get("RecordId") or 0) for i in items]
    last = max(ids) if ids else 0 if cleared else bookmark  # after a clear: from its start
    events = [e for e in (event_of(i) for i in items) if e is not None]
    return SecurityRead(events, last, gap, more=len(items) >= MAX_EVENTS)


def read_security(runner: Runner, bookmark: int) -> SecurityRead:
    data = run_json(runner, "security_log", SCRIPT, stdin=str(int(bookmark)).encode())
    return parse(data, bookmark)
