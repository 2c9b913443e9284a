"""Network state: interfaces, addresses, routes (`ip -j ...`), resolvers, interface kinds."""

from __future__ import annotations

import json
import os

from collectors.system.evidence import require
from collectors.system.files import SystemReadError, exists, link_name, read_text
from collectors.system.runner import Runner
from common.errors import CommandError
from common.frozen import frozen

IP_TIMEOUT = 5.0
# Name prefixes of wireless, cellular and USB-tethering interfaces, used when sysfs says nothing.
_WIRELESS_PREFIXES = ("wl", "wlan", "ath", "ra")
_WWAN_PREFIXES = ("ww", "wwan", "rmnet", "ppp")
_TETHER_DRIVERS = frozenset({"rndis_host", "cdc_ether", "cdc_ncm", "ipheth", "cdc_mbim", "qmi_wwan"})


@frozen
class Interface:
    """One network interface: MAC, state, kind and addresses (with prefix length)."""

    name: str
    mac: str
    up: bool
    kind: str  # "wired", "wireless", "wwan", "tether", "loopback", "virtual"
    addresses: tuple[str, ...]  # "10.0.0.5/24"


@frozen
class Route:
    """One route: destination, gateway ("" for none) and interface."""

    destination: str  # "default" or a prefix
    gateway: str
    device: str


def _ip_json(runner: Runner, *args: str) -> list[dict[str, object]]:
    argv = ("ip", "-j", *args)
    try:
        result = runner.run(argv, timeout=IP_TIMEOUT)
    except CommandError as exc:
        raise SystemReadError(" ".join(argv), str(exc)) from exc
    if not result.ok:
        raise SystemReadError(" ".join(argv), f"exit {result.returncode}: {result.stderr_tail()}")
    try:
        data = json.loads(result.stdout or b"[]")
    except json.JSONDecodeError as exc:
        raise SystemReadError(" ".join(argv), "output is not JSON") from exc
    if not isinstance(data, list):
        raise SystemReadError(" ".join(argv), "expected a JSON list")
    return [d for d in data if isinstance(d, dict)]


def interface_kind(root: str | os.PathLike[str], name: str, link_type: str) -> str:
    """Classify from sysfs (uevent DEVTYPE, the driver) and, failing that, the name."""
    if link_type == "loopback":
        return "loopback"
    uevent = read_text(root, f"/sys/class/net/{name}/uevent") or ""
    devtype = ""
    for line in uevent.splitlines():
        if line.startswith("DEVTYPE="):
            devtype = line.split("=", 1)[1]
    if devtype == "wlan" or any(exists(root, f"/sys/class/net/{name}/{d}") for d in ("wireless", "phy80211")):
        return "wireless"
    if devtype == "wwan" or (link_type in ("ppp", "none") and name.startswith(_WWAN_PREFIXES)):
        return "wwan"
    device = f"/sys/class/net/{name}/device"
    has_device = exists(root, device)
    driver = (link_name(root, f"{device}/driver") or "") if has_device else ""
    if driver in _TETHER_DRIVERS:
        return "tether"
    if name.startswith(_WIRELESS_PREFIXES):
        return "wireless"
    if name.startswith(_WWAN_PREFIXES):
        return "wwan"
    if devtype in ("bridge", "vlan", "bond") or not has_device:
        return "virtual"
    return "wired"


def parse_links(
    links: list[dict[str, object]], addrs: list[dict[str, object]], root: str | os.PathLike[str] = "/"
) -> list[Interface]:
    """Join `ip -j link` and `ip -j addr` output into interfaces."""
    by_name: dict[str, list[str]] = {}
    for entry in addrs:
        infos = entry.get("addr_info")
        if isinstance(infos, list):
            by_name[str(entry.get("ifname"))] = [
                f"{i.get('local')}/{i.get('prefixlen')}" for i in infos if isinstance(i, dict)
            ]
    out = []
    for link in links:
        name = str(link.get("ifname", ""))
        flags = link.get("flags") if isinstance(link.get("flags"), list) else []
        up = "UP" in flags and str(link.get("operstate", "")) != "DOWN"  # type: ignore[operator]
        kind = interface_kind(root, name, str(link.get("link_type", "")))
        out.append(Interface(name, str(link.get("address", "")), up, kind, tuple(by_name.get(name, []))))
    return out


def parse_routes(routes: list[dict[str, object]]) -> list[Route]:
    return [Route(str(r.get("dst", "")), str(r.get("gateway", "")), str(r.get("dev", ""))) for r in routes]


def read_interfaces(runner: Runner, root: str | os.PathLike[str] = "/") -> list[Interface]:
    """Every interface; NoEvidence when `ip` lists none (there is always at least `lo`)."""
    links = require(
        _ip_json(runner, "link", "show"),
        "ip -j link show",
        "no network interface listed (not even lo)",
        "没有列出任何网络接口（连 lo 都没有）",
    )
    return parse_links(links, _ip_json(runner, "addr", "show"), root)


def read_routes(runner: Runner) -> list[Route]:
    """IPv4 and IPv6 routes of the main table."""
    return parse_routes(_ip_json(runner, "-4", "route", "show") + _ip_json(runner, "-6", "route", "show"))


def parse_resolv_conf(text: str) -> list[str]:
    return [
        line.split()[1]
        for line in text.splitlines()
        if line.startswith("nameserver") and len(line.split()) > 1
    ]


def read_nameservers(root: str | os.PathLike[str] = "/") -> list[str]:
    text = read_text(root, "/etc/resolv.conf")
    return parse_resolv_conf(text) if text is not None else []


@frozen
class Neighbour:
    """An ARP / NDP neighbour-table entry: a device this host has talked to on the LAN."""

    address: str
    mac: str  # as the table spells it; "" when unresolved
    device: str
    state: str  # "REACHABLE", "STALE", "PERMANENT", ...


def parse_neighbours(entries: list[dict[str, object]]) -> list[Neighbour]:
    """`ip -j neigh show` output; entries without a link-layer address (FAILED, INCOMPLETE) dropped."""
    out = []
    for entry in entries:
        mac = str(entry.get("lladdr") or "")
        states = entry.get("state")
        state = ",".join(str(s) for s in states) if isinstance(states, list) else str(states or "")
        if mac:
            out.append(Neighbour(str(entry.get("dst", "")), mac, str(entry.get("dev", "")), state))
    return out


def read_neighbours(runner: Runner) -> list[Neighbour]:
    return parse_neighbours(_ip_json(runner, "neigh", "show"))
