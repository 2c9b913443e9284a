"""Windows network state (Get-NetAdapter/IPAddress/Route/DnsClientServerAddress) as Linux-like records."""

from __future__ import annotations

from typing import Any

from collectors.system.evidence import require
from collectors.system.linux.network import Interface, Route
from collectors.system.runner import Runner
from collectors.system.windows.powershell import as_list, run_json

SCRIPT = (
    "[pscustomobject]@{"
    "adapters=@(Get-NetAdapter | Select-Object Name,InterfaceDescription,Status,MacAddress,"
    "MediaType,PhysicalMediaType); "
    "addresses=@(Get-NetIPAddress | Select-Object InterfaceAlias,IPAddress,PrefixLength); "
    "routes=@(Get-NetRoute -DestinationPrefix '0.0.0.0/0','::/0' -ErrorAction SilentlyContinue | "
    "Select-Object DestinationPrefix,NextHop,InterfaceAlias); "
    "dns=@(Get-DnsClientServerAddress | Select-Object InterfaceAlias,ServerAddresses)"
    "} | ConvertTo-Json -Depth 4"
)
_WIRELESS = ("native 802.11", "wireless lan", "802.11")
_WWAN = ("wireless wan", "mobile broadband", "wwan")
# Bluetooth PAN ("Bluetooth Device (Personal Area Network)", PhysicalMediaType BlueTooth) is a
# phone's internet as surely as USB tethering is.
_TETHER = ("remote ndis", "rndis", "android usb ethernet", "apple mobile device ethernet", "bluetooth")


def adapter_kind(adapter: dict[str, Any]) -> str:
    media = f"{adapter.get('PhysicalMediaType', '')} {adapter.get('MediaType', '')}".lower()
    desc = str(adapter.get("InterfaceDescription", "")).lower()
    if any(w in media for w in _WWAN):
        return "wwan"
    if any(w in media for w in _WIRELESS) or "wi-fi" in desc or "wireless" in desc:
        return "wireless"
    if any(t in desc for t in _TETHER) or "bluetooth" in media:
        return "tether"
    return "wired"


def parse_network(data: Any) -> tuple[list[Interface], list[Route], list[str]]:
    """Adapters, default routes and DNS servers; NoEvidence when no adapter was listed (every
    PC has one, even if disabled): an empty reading must not look like an isolated host."""
    d = data if isinstance(data, dict) else {}
    require(
        as_list(d.get("adapters")),
        "network",
        "Get-NetAdapter listed no network adapter",
        "Get-NetAdapter 没有列出任何网卡",
    )
    addrs: dict[str, list[str]] = {}
    for a in as_list(d.get("addresses")):
        addrs.setdefault(str(a.get("InterfaceAlias")), []).append(
            f"{a.get('IPAddress')}/{a.get('PrefixLength')}"
        )
    interfaces = [
        Interface(
            name=str(a.get("Name", "")),
            mac=str(a.get("MacAddress", "")).replace("-", ":").lower(),
            up=str(a.get("Status", "")).lower() == "up",
            kind=adapter_kind(a),
            addresses=tuple(addrs.get(str(a.get("Name")), [])),
        )
        for a in as_list(d.get("adapters"))
    ]
    routes = [
        Route("default", str(r.get("NextHop", "")), str(r.get("InterfaceAlias", "")))
        for r in as_list(d.get("routes"))
        if str(r.get("NextHop", "")) not in ("0.0.0.0", "::")  # noqa: S104 - "no gateway", not a bind
    ]
    dns: list[str] = []
    for entry in as_list(d.get("dns")):
        servers = entry.get("ServerAddresses") or []
        dns.extend(str(s) for s in (servers if isinstance(servers, list) else [servers]))
    return interfaces, routes, sorted(set(dns))


def read_network(runner: Runner) -> tuple[list[Interface], list[Route], list[str]]:
    return parse_network(run_json(runner, "network", SCRIPT))
