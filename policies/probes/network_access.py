"""NET-6 (no outside devices on the LAN) and NET-7 (internet access by staff class).

NET-6 compares the neighbour table (Linux `ip -j neigh`, Windows Get-NetNeighbor) with the
asset register: a MAC the register does not know is a device nobody registered. Multicast and
broadcast addresses are not devices. NET-7 probes, concurrently under the isolation timeout,
the destinations the host's class must reach and those it must not.
"""

from __future__ import annotations

import time
from typing import Any

from collectors.system import reach
from collectors.system.evidence import require
from collectors.system.linux import network as linux_net
from policies.assets import normalise_mac
from policies.context import ProbeContext
from policies.result import Finding, Msg, errored, failed, joined, msg, not_applicable, passed


def _neighbours(ctx: ProbeContext) -> list[tuple[str, str, str, str]]:
    if ctx.target.platform == "windows":
        from collectors.system.windows import readers as win
        from collectors.system.windows import records

        return records.parse_neighbours(
            ctx.read("win:neighbours", lambda: win.read(ctx.runner, "neighbours"))
        )
    found = ctx.read("neigh", lambda: linux_net.read_neighbours(ctx.runner))
    require(
        found,
        "ip -j neigh show",
        "the neighbour table is empty: no LAN device was seen, so none can be judged",
        "邻居表为空：没有看到局域网设备，无法判断",
    )
    return [(n.address, n.mac, n.device, n.state) for n in found]


def _is_device(mac: str) -> bool:
    """Unicast: the group bit (least significant bit of the first octet) is clear."""
    return not int(mac[:2], 16) & 1


def unknown_devices(ctx: ProbeContext) -> Finding:
    inputs = ctx.inputs
    if inputs.assets_error:
        return errored(
            msg(
                f"asset register unreadable: {inputs.assets_error}",
                f"资产登记表无法读取：{inputs.assets_error}",
            )
        )
    if inputs.assets is None:
        return not_applicable(
            msg("no asset register configured (audit.assets_file)", "未配置资产登记表（audit.assets_file）")
        )
    seen: dict[str, dict[str, Any]] = {}
    for address, raw, device, state in _neighbours(ctx):
        mac = normalise_mac(raw)
        if mac is None or not _is_device(mac) or mac == "00:00:00:00:00:00":
            continue
        entry = seen.setdefault(mac, {"mac": mac, "addresses": [], "device": device, "state": state})
        entry["addresses"].append(address)
    if not seen:
        return errored(
            msg(
                "no unicast device in the neighbour table (only broadcast/multicast): nothing to compare",
                "邻居表中没有单播设备（只有广播/组播）：无可比较的设备",
            ),
            register=inputs.assets_source,
        )
    unknown = [e for mac, e in sorted(seen.items()) if mac not in inputs.assets]
    evidence = {
        "unknown": unknown,
        "neighbours_seen": len(seen),
        "registered": len(inputs.assets),
        "register": inputs.assets_source,
    }
    if unknown:
        shown = ", ".join(f"{e['mac']} ({'/'.join(e['addresses'])})" for e in unknown[:10])
        return failed(
            msg(
                f"{len(unknown)} device(s) not in the asset register: {shown}",
                f"{len(unknown)} 台设备未登记：{shown}",
            ),
            **evidence,
        )
    return passed(
        msg(f"all {len(seen)} neighbour device(s) are registered", f"相邻的 {len(seen)} 台设备均已登记"),
        **evidence,
    )


def internet_access_by_class(ctx: ProbeContext) -> Finding:
    access = ctx.inputs.internet_access
    chosen = access.class_for(ctx.target.role)
    if chosen is None:
        return not_applicable(
            msg(
                f"no internet-access class for this host (role {ctx.target.role})",
                f"本机（角色 {ctx.target.role}）未指定上网类别",
            )
        )
    if not chosen.allowed and not chosen.denied:
        return errored(
            msg(
                f"class {chosen.name} names no destination to probe (allowed/denied)",
                f"{chosen.name} 类没有配置任何探测目标（allowed/denied）",
            ),
            **{"class": chosen.name},
        )
    budget = min(ctx.inputs.isolation.timeout, max(0.1, ctx.deadline - time.monotonic() - 0.2))
    results = reach.probe_all(chosen.allowed + chosen.denied, (), budget)
    allowed = set(chosen.allowed)
    problems: list[Msg] = []
    for r in results:
        if r.target in allowed and not r.reachable:
            problems.append(
                msg(
                    f"allowed {r.target} unreachable ({r.detail})",
                    f"应可访问的 {r.target} 不可达（{r.detail}）",
                )
            )
        elif r.target not in allowed and r.reachable:
            problems.append(
                msg(
                    f"denied {r.target} reachable ({r.detail})", f"应禁止的 {r.target} 可以访问（{r.detail}）"
                )
            )
    evidence = {
        "class": chosen.name,
        "probes": [
            {
                "target": r.target,
                "expected": "reachable" if r.target in allowed else "blocked",
                "reachable": bool(r.reachable),
                "detail": r.detail,
                "seconds": round(r.seconds, 3),
            }
            for r in results
        ],
    }
    if problems:
        both = joined(problems)
        return failed(msg(f"class {chosen.name}: {both.en}", f"{chosen.name} 类：{both.zh}"), **evidence)
    return passed(
        msg(
            f"class {chosen.name}: {len(chosen.allowed)} allowed reachable, "
            f"{len(chosen.denied)} denied blocked",
            f"{chosen.name} 类：{len(chosen.allowed)} 个允许目标可达，{len(chosen.denied)} 个禁止目标不可达",
        ),
        **evidence,
    )
