"""Linux probes for software and services (SW-1/2/3)."""

from __future__ import annotations

import ipaddress

from collectors.system.linux import processes
from policies.context import ProbeContext
from policies.probes.common import denied
from policies.probes.linux_media import installed, running
from policies.result import Finding, errored, failed, msg, passed


def forbidden_software(ctx: ProbeContext) -> Finding:
    pkgs = installed(ctx)
    if pkgs is None:
        return errored(
            msg("no package database (/var/lib/dpkg/status)", "没有软件包数据库（/var/lib/dpkg/status）")
        )
    deny, allow = ctx.params.deny or (), ctx.params.allow or ()
    bad_pkgs = denied(pkgs, deny, allow)
    procs = running(ctx)
    bad_procs = denied(procs or (), deny, allow)
    evidence = {
        "installed": {p: {"version": pkgs[p].version, "matched": m} for p, m in sorted(bad_pkgs.items())},
        "running": dict(sorted(bad_procs.items())),
        "packages_checked": len(pkgs),
        "processes_checked": None if procs is None else len(procs),
    }
    if bad_pkgs or bad_procs:
        names = sorted(set(bad_pkgs) | set(bad_procs))
        listed = ", ".join(names)
        return failed(msg(f"forbidden software: {listed}", f"禁用软件：{listed}"), **evidence)
    return passed(
        msg(
            f"none of {len(deny)} forbidden names installed or running",
            f"{len(deny)} 个禁用名称均未安装或运行",
        ),
        **evidence,
    )


def listening_services(ctx: ProbeContext) -> Finding:
    listeners = ctx.read("listeners", lambda: processes.read_listeners(ctx.target.root))
    if listeners is None:
        return errored(
            msg("no /proc/net/tcp to list listening services", "没有 /proc/net/tcp，无法列出监听服务")
        )
    allowed = set(ctx.params.allowed_ports or ())
    exposed = []
    for item in listeners:
        try:
            loopback = ipaddress.ip_address(item.address).is_loopback
        except ValueError:
            loopback = False  # an IPv6 address we keep as hex: judge it
        if not loopback and item.port not in allowed:
            exposed.append(f"{item.address}:{item.port}")
    evidence = {
        "not_allowed": sorted(set(exposed)),
        "allowed_ports": sorted(allowed),
        "listeners": sorted({f"{i.address}:{i.port}" for i in listeners}),
    }
    if exposed:
        names = ", ".join(sorted(set(exposed)))
        return failed(
            msg(f"services not on the allow-list listen: {names}", f"未列入允许清单的服务在监听：{names}"),
            **evidence,
        )
    return passed(msg("only allowed services listen", "只有允许的服务在监听"), **evidence)
