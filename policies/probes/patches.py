"""PATCH-1 probes: days since the last successful OS update, and pending security updates.

Linux reads apt's history and dpkg's log, or dnf's history database (RHEL family); pending
security updates come from the package lists already on disk (apt simulation, dnf cache), so
an isolated host is judged without network. Windows reads hotfix dates and the Windows Update
Agent's offline search. A missing tool or unreadable database is `error`, never `pass`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from collectors.system import files
from collectors.system.linux import packages, updates
from collectors.system.windows import readers as win
from collectors.system.windows import records
from policies.context import ProbeContext
from policies.probes.common import age_days
from policies.result import Finding, errored, failed, msg, passed


def _judge_age(ctx: ProbeContext, last: datetime, evidence: dict[str, Any], what: str = "update") -> Finding:
    limit = ctx.params.max_age_days or 31
    age = age_days(ctx.now, last)
    evidence |= {"age_days": age, "max_age_days": limit}
    en, zh = (
        ("last OS update", "上次系统更新")
        if what == "update"
        else ("last full OS upgrade", "上次全面系统更新")
    )
    if age > limit:
        return failed(
            msg(f"{en} {age:g} days ago (limit {limit})", f"{zh}在 {age:g} 天前（上限 {limit} 天）"),
            **evidence,
        )
    return passed(msg(f"{en} {age:g} days ago", f"{zh}在 {age:g} 天前"), **evidence)


def linux_os_updated(ctx: ProbeContext) -> Finding:
    root = ctx.target.root
    history = packages.read_update_history(root)
    dnf = ctx.read("dnf_history", lambda: updates.read_dnf_history(root))
    # Only an upgrade of the whole system counts: one package upgraded yesterday says nothing
    # about the 93 security updates still pending.
    any_upgrade = [history.last_upgrade.astimezone()] if history.last_upgrade else []
    candidates = [history.last_full_upgrade.astimezone()] if history.last_full_upgrade else []
    if dnf is not None and dnf.last_upgrade is not None:
        any_upgrade.append(dnf.last_upgrade)
    if dnf is not None and dnf.last_full_upgrade is not None:
        candidates.append(dnf.last_full_upgrade)
    evidence: dict[str, Any] = {
        "sources": list(history.sources) + ([dnf.path] if dnf else []),
        "last_full_upgrade": max(candidates).isoformat(timespec="seconds") if candidates else None,
        "last_upgrade": max(any_upgrade).isoformat(timespec="seconds") if any_upgrade else None,
        "dnf_transactions": None if dnf is None else {"upgrades": dnf.transactions, "failed": dnf.failed},
    }
    if not candidates and not evidence["sources"]:
        return errored(
            msg(
                "no package history to read (apt/dpkg logs or dnf history)",
                "找不到软件包更新历史（apt/dpkg 日志或 dnf 历史）",
            ),
            **evidence,
        )
    if not candidates:
        limit = ctx.params.max_age_days or 31
        return failed(
            msg(
                "no full upgrade (apt-get upgrade, dnf upgrade, unattended-upgrades) recorded in apt or"
                " dnf history"
                + (f"; single packages last upgraded {evidence['last_upgrade']}" if any_upgrade else ""),
                "apt 或 dnf 历史中没有全面系统更新（apt-get upgrade、dnf upgrade、unattended-upgrades）的记录"
                + (f"；仅在 {evidence['last_upgrade']} 升级过个别软件包" if any_upgrade else ""),
            ),
            max_age_days=limit,
            **evidence,
        )
    return _judge_age(ctx, max(candidates), evidence, "full")


def windows_os_updated(ctx: ProbeContext) -> Finding:
    fixes = win.parse_hotfixes(ctx.read("win:hotfixes", lambda: win.read(ctx.runner, "hotfixes")))
    dated = [(kb, when) for kb, when in fixes if when is not None]
    if not dated:
        return failed(
            msg("no hotfix with an install date", "没有带安装日期的补丁"), hotfixes=[kb for kb, _ in fixes]
        )
    kb, when = max(dated, key=lambda item: item[1])
    assert when is not None
    evidence: dict[str, Any] = {"latest": kb, "installed_on": when.date().isoformat(), "hotfixes": len(fixes)}
    return _judge_age(ctx, when, evidence)


def _judge_pending(ctx: ProbeContext, security: list[str], evidence: dict[str, Any]) -> Finding:
    limit = ctx.params.max_pending_security or 0
    evidence |= {
        "pending_security": len(security),
        "max_pending_security": limit,
        "security_updates": security,
    }
    if len(security) > limit:
        shown = ", ".join(security[:10]) + (" …" if len(security) > 10 else "")
        return failed(
            msg(
                f"{len(security)} security update(s) pending (limit {limit}): {shown}",
                f"有 {len(security)} 个安全更新未安装（上限 {limit}）：{shown}",
            ),
            **evidence,
        )
    return passed(
        msg(f"{len(security)} security update(s) pending", f"未安装的安全更新 {len(security)} 个"), **evidence
    )


def linux_security_pending(ctx: ProbeContext) -> Finding:
    root = ctx.target.root
    if files.exists(root, "/var/lib/dpkg/status"):
        pending = updates.read_apt_pending(ctx.runner, root)
    elif any(files.exists(root, p) for p in (*updates.DNF_HISTORY, "/var/lib/rpm", "/usr/lib/sysimage/rpm")):
        pending = updates.read_dnf_pending(ctx.runner, root)
    else:
        return errored(
            msg("no apt or dnf package database to compare with", "找不到 apt 或 dnf 软件包数据库")
        )
    evidence = {
        "tool": pending.tool,
        "pending_other": pending.other,
        "source": "local package lists (no network)",
    }
    return _judge_pending(ctx, list(pending.security), evidence)


def windows_security_pending(ctx: ProbeContext) -> Finding:
    found = records.parse_pending_updates(
        ctx.read("win:pending", lambda: win.read(ctx.runner, "pending_updates"))
    )
    security = [", ".join(u["kb"]) or u["title"] for u in found if u["security"]]
    evidence = {
        "tool": "Windows Update Agent (offline search)",
        "pending_other": len(found) - len(security),
        "titles": [u["title"] for u in found if u["security"]][:20],
    }
    return _judge_pending(ctx, security, evidence)
