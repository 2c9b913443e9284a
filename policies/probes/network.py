"""Network probes for isolation, egress and settings drift (NET-1..5), any platform.

The network state comes from the platform's reader (Linux `ip -j`, Windows Get-Net* as JSON) as
the same Interface and Route records; the reachability probes are plain sockets.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from collectors.system import reach
from collectors.system.evidence import require
from collectors.system.linux import network as linux_net
from policies.context import ProbeContext
from policies.result import Finding, Msg, errored, failed, joined, msg, not_applicable, passed

NOT_CONFIGURED = msg(
    "not configured: no internet canary to probe (audit.isolation.canaries / dns_canaries)",
    "未配置：没有可探测的互联网探测点（audit.isolation.canaries / dns_canaries）",
)


def net_state(ctx: ProbeContext) -> tuple[list[linux_net.Interface], list[linux_net.Route], list[str]]:
    """(interfaces, routes, nameservers) of the audited host, read once per audit. NoEvidence
    when no interface but loopback was read: "no interface to the internet" from an empty
    reading would be a pass on nothing."""
    if ctx.target.platform == "windows":
        from collectors.system.windows import network as win_net

        state = ctx.read("net", lambda: win_net.read_network(ctx.runner))
    else:
        root = ctx.target.root
        state = ctx.read(
            "net",
            lambda: (
                linux_net.read_interfaces(ctx.runner, root),
                linux_net.read_routes(ctx.runner),
                linux_net.read_nameservers(root),
            ),
        )
    require(
        [i for i in state[0] if i.kind != "loopback"],
        "network interfaces",
        "no network interface besides loopback was read",
        "除回环接口外没有读到任何网络接口",
    )
    return state


def _is_public_route(route: linux_net.Route) -> bool:
    if route.destination == "default":
        return True
    try:
        net = ipaddress.ip_network(route.destination, strict=False)
    except ValueError:
        return False
    return net.is_global and not net.is_multicast


def _probes(ctx: ProbeContext, tcp: tuple[str, ...], dns: tuple[str, ...]) -> list[reach.Reach]:
    import time

    budget = min(ctx.inputs.isolation.timeout, max(0.1, ctx.deadline - time.monotonic() - 0.2))
    return reach.probe_all(tcp, dns, budget)


def isolation(ctx: ProbeContext) -> Finding:
    """NET-1/2/4: no route out, no forbidden interface up, canaries silent, private net reachable."""
    iso = ctx.inputs.isolation
    interfaces, routes, _ = net_state(ctx)
    problems: list[Msg] = []
    public = [r for r in routes if _is_public_route(r) and r.gateway not in iso.allowed_gateways]
    for route in public:
        via = route.gateway or route.device
        problems.append(
            msg(f"route to {route.destination} via {via}", f"有经 {via} 到 {route.destination} 的路由")
        )
    kinds = set(ctx.params.forbidden_interfaces or ())
    for i in (i for i in interfaces if i.kind in kinds):  # down is no better: anyone can bring it up
        problems.append(
            msg(f"{i.kind} interface {i.name} is up", f"{i.kind} 网卡 {i.name} 已启用")
            if i.up
            else msg(
                f"{i.kind} interface {i.name} is present (down; anyone can bring it up)",
                f"{i.kind} 网卡 {i.name} 存在（未启用，但随时可被启用）",
            )
        )
    results = _probes(ctx, iso.canaries + iso.private_targets, iso.dns_canaries)
    private = set(iso.private_targets)
    for probe in results:
        if probe.target in private and probe.kind == "tcp":
            if not probe.reachable:
                problems.append(
                    msg(
                        f"private network {probe.target} unreachable ({probe.detail})",
                        f"专网 {probe.target} 不可达（{probe.detail}）",
                    )
                )
        elif probe.reachable:
            problems.append(
                msg(
                    f"internet canary {probe.target} ({probe.kind}) answered: {probe.detail}",
                    f"互联网探测点 {probe.target}（{probe.kind}）有应答：{probe.detail}",
                )
            )
    evidence: dict[str, Any] = {
        "public_routes": [
            {"destination": r.destination, "gateway": r.gateway, "device": r.device} for r in public
        ],
        "interfaces": [
            {"name": i.name, "kind": i.kind, "up": i.up} for i in interfaces if i.kind != "loopback"
        ],
        "probes": [
            {
                "target": r.target,
                "kind": r.kind,
                "reachable": bool(r.reachable),
                "detail": r.detail,
                "seconds": round(r.seconds, 3),
            }
            for r in results
        ],
        "canaries_configured": len(iso.canaries) + len(iso.dns_canaries),
    }
    if problems:
        return failed(joined(problems), **evidence)
    if not evidence["canaries_configured"]:
        return errored(NOT_CONFIGURED, **evidence)
    return passed(
        msg(
            "no route or interface to the internet; canaries silent",
            "无通往互联网的路由或网卡；探测点均无应答",
        ),
        **evidence,
    )


def egress_blocked(ctx: ProbeContext) -> Finding:
    """NET-3: servers reach no internet canary; allow-listed mirrors are not judged."""
    iso = ctx.inputs.isolation
    if not iso.canaries and not iso.dns_canaries:
        return errored(NOT_CONFIGURED)
    results = _probes(ctx, iso.canaries, iso.dns_canaries)
    answered = [r for r in results if r.reachable]
    evidence = {
        "probes": [
            {"target": r.target, "kind": r.kind, "reachable": bool(r.reachable), "detail": r.detail}
            for r in results
        ],
        "allowed_egress": list(iso.allowed_egress),
    }
    if answered:
        reached = ", ".join(r.target for r in answered)
        return failed(msg(f"reached the internet: {reached}", f"能访问互联网：{reached}"), **evidence)
    return passed(
        msg(f"{len(results)} internet canaries unreachable", f"{len(results)} 个互联网探测点均不可达"),
        **evidence,
    )


def observed_settings(ctx: ProbeContext) -> dict[str, Any]:
    """The settings NET-5 registers and compares: per interface address and MAC, gateways, DNS."""
    interfaces, routes, dns = net_state(ctx)
    return {
        "interfaces": {
            i.name: {"mac": i.mac, "addresses": sorted(a for a in i.addresses if not a.startswith("fe80:"))}
            for i in interfaces
            if i.kind not in ("loopback", "virtual")
        },
        "gateways": sorted({r.gateway for r in routes if r.destination == "default" and r.gateway}),
        "dns": sorted(dns),
    }


def _empty_settings(settings: Any) -> bool:
    """True for a settings record that holds nothing to compare (no interface, gateway or DNS)."""
    if not isinstance(settings, dict):
        return True
    return not any(settings.get(key) for key in ("interfaces", "gateways", "dns"))


def network_baseline(ctx: ProbeContext) -> Finding:
    now = observed_settings(ctx)
    before = ctx.inputs.network_baseline
    if _empty_settings(now):
        return errored(
            msg(
                "no interface address, gateway or DNS server was read: nothing to compare",
                "没有读到任何网卡地址、网关或 DNS：无可比较的内容",
            ),
            settings_read=now,  # not "observed": an empty reading must never become the baseline
            baseline=before,
        )
    if before is None:
        return not_applicable(
            msg(
                "no baseline registered yet; the current settings become the baseline",
                "尚未登记基线；当前设置将作为基线",
            ),
            observed=now,
        )
    if _empty_settings(before):
        return errored(
            msg(
                "the stored baseline is empty; register it again (hostward audit --accept-network-baseline)",
                "已登记的基线为空；请重新登记（hostward audit --accept-network-baseline）",
            ),
            baseline=before,
            observed=now,
        )
    drift: list[dict[str, Any]] = []
    for key in ("gateways", "dns"):
        if before.get(key) != now[key]:
            drift.append({"setting": key, "before": before.get(key), "after": now[key]})
    old_ifs: dict[str, Any] = dict(before.get("interfaces", {}))
    for name in sorted(set(old_ifs) | set(now["interfaces"])):
        if old_ifs.get(name) != now["interfaces"].get(name):
            drift.append(
                {
                    "setting": f"interface {name}",
                    "before": old_ifs.get(name),
                    "after": now["interfaces"].get(name),
                }
            )
    evidence = {"drift": drift, "baseline": dict(before), "observed": now}
    if drift:
        changed = ", ".join(d["setting"] for d in drift)
        return failed(msg(f"network settings changed: {changed}", f"网络设置被修改：{changed}"), **evidence)
    return passed(
        msg("addresses, MACs, gateways and DNS match the baseline", "IP、MAC、网关和 DNS 与登记基线一致"),
        **evidence,
    )
