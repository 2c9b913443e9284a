"""Windows antivirus and patch probes (AV-1..3, PATCH-1), Defender and third-party products.

Third-party products (360, 火绒 Huorong, 金山 Kingsoft, 奇安信 Qi-Anxin, 瑞星 Rising) report to
Security Center (root/SecurityCenter2 AntiVirusProduct): its productState says whether the
scanner is on and the signatures are up to date. Windows Server has no Security Center: there
Defender (Get-MpComputerStatus) or, failing that, the product's service is the evidence.
Security Center does not record scans; a third-party product's scan is judged from its own
scan log files when the config names them (`windows_scan_logs`), and is `error` otherwise.
"""

from __future__ import annotations

import re
from typing import Any

from collectors.system.windows import readers as win
from collectors.system.windows import records
from collectors.system.windows.powershell import NamespaceMissing, ScriptFailed
from policies.context import ProbeContext
from policies.probes.common import age_days, matches
from policies.result import Finding, errored, failed, msg, passed

_VENDORS = (
    (re.compile(r"defender", re.I), "Microsoft Defender"),
    (re.compile(r"360"), "360 (Qihoo)"),
    (re.compile(r"火绒|huorong", re.I), "Huorong 火绒"),
    (re.compile(r"金山|毒霸|kingsoft", re.I), "Kingsoft 金山"),
    (re.compile(r"奇安信|天擎|qi-?anxin|qax", re.I), "Qi-Anxin 奇安信"),
    (re.compile(r"瑞星|rising", re.I), "Rising 瑞星"),
)


def vendor(name: str) -> str:
    for pattern, label in _VENDORS:
        if pattern.search(name):
            return label
    return ""


def read(ctx: ProbeContext, name: str) -> Any:
    return ctx.read(f"win:{name}", lambda: win.read(ctx.runner, name))


def defender(ctx: ProbeContext) -> win.DefenderStatus | None:
    try:
        return win.parse_mp_status(read(ctx, "mp_status"))
    except ScriptFailed:
        return None  # Defender absent or removed (a third-party product may have replaced it)


def products(ctx: ProbeContext) -> list[win.AvProduct] | None:
    """Security Center products; None where Security Center does not exist (Windows Server)."""
    try:
        return win.parse_av_products(read(ctx, "av_products"))
    except NamespaceMissing:
        return None


def third_party(items: list[win.AvProduct] | None) -> list[win.AvProduct]:
    return [p for p in items or [] if p.enabled and "defender" not in p.name.lower()]


def defender_active(status: win.DefenderStatus | None) -> bool:
    return status is not None and status.service_enabled and status.antivirus_enabled


def product_evidence(items: list[win.AvProduct] | None) -> Any:
    if items is None:
        return None
    return [
        {
            "name": p.name,
            "vendor": vendor(p.name),
            "product_state": p.product_state,
            "product_state_hex": f"0x{p.product_state:06X}",
            "enabled": p.enabled,
            "up_to_date": p.up_to_date,
        }
        for p in items
    ]


def _av_services(ctx: ProbeContext) -> list[records.Service]:
    patterns = ctx.params.av_services or ()
    found = records.parse_services(read(ctx, "services"))
    return [s for s in found if matches(s.name, patterns) or matches(s.display_name, patterns)]


def av_installed_running(ctx: ProbeContext) -> Finding:
    items = products(ctx)
    status = defender(ctx)
    evidence: dict[str, Any] = {
        "security_center": product_evidence(items),
        "defender": None
        if status is None
        else {
            "service": status.service_enabled,
            "antivirus": status.antivirus_enabled,
            "realtime": status.realtime,
        },
    }
    if items:
        on = [p.name for p in items if p.enabled]
        if on:
            return passed(msg(f"enabled: {', '.join(on)}", f"已启用：{'、'.join(on)}"), **evidence)
        names = ", ".join(p.name for p in items)
        return failed(msg(f"installed but off: {names}", f"已安装但未启用：{names}"), **evidence)
    where = items is None
    if defender_active(status):
        en = ("Security Center absent; " if where else "") + "Microsoft Defender is running"
        zh = ("无安全中心；" if where else "") + "Microsoft Defender 正在运行"
        return passed(msg(en, zh), **evidence)
    if where:  # Windows Server without Defender: the product's own service
        services = _av_services(ctx)
        evidence["services"] = [
            {"name": s.name, "display_name": s.display_name, "running": s.running, "start_mode": s.start_mode}
            for s in services
        ]
        up = [s.display_name or s.name for s in services if s.running]
        if up:
            return passed(
                msg(
                    f"Security Center absent; antivirus service running: {', '.join(up)}",
                    f"无安全中心；杀毒服务正在运行：{'、'.join(up)}",
                ),
                **evidence,
            )
        if services:
            down = ", ".join(s.display_name or s.name for s in services)
            return failed(
                msg(f"antivirus service not running: {down}", f"杀毒服务未运行：{down}"), **evidence
            )
    return failed(msg("no antivirus product is installed and running", "未安装或未运行杀毒软件"), **evidence)


def av_signatures_current(ctx: ProbeContext) -> Finding:
    limit = ctx.params.max_age_days or 3
    items = products(ctx)
    status = defender(ctx)
    third = third_party(items)
    evidence: dict[str, Any] = {"security_center": product_evidence(items), "max_age_days": limit}
    if third:
        stale = [p.name for p in third if not p.up_to_date]
        if stale:
            s = ", ".join(stale)
            return failed(msg(f"signatures out of date: {s}", f"病毒库过期：{s}"), **evidence)
        s = ", ".join(p.name for p in third)
        return passed(msg(f"up to date: {s}", f"病毒库为最新：{s}"), **evidence)
    if status is None or status.signature_age_days is None:
        return errored(
            msg("no active antivirus reports its signature age", "没有杀毒软件报告病毒库日期"), **evidence
        )
    age = status.signature_age_days
    evidence |= {"defender_signature_age_days": age, "defender_signature_version": status.signature_version}
    if age > limit:
        return failed(
            msg(
                f"Defender signatures {age} days old (limit {limit})",
                f"Defender 病毒库已 {age} 天（上限 {limit} 天）",
            ),
            **evidence,
        )
    return passed(msg(f"Defender signatures {age} days old", f"Defender 病毒库 {age} 天前更新"), **evidence)


def av_scan_recent(ctx: ProbeContext) -> Finding:
    limit = ctx.params.max_age_days or 7
    status = defender(ctx)
    third = third_party(products(ctx))
    if defender_active(status) or not third:
        return _defender_scan(status, limit)
    names = ", ".join(p.name for p in third)
    logs = ctx.params.windows_scan_logs or ()
    evidence: dict[str, Any] = {"products": names, "scan_logs": list(logs), "max_age_days": limit}
    if not logs:
        return errored(
            msg(
                f"{names} does not report scans to Security Center; name its scan logs (windows_scan_logs)",
                f"{names} 不向安全中心报告扫描记录；请在配置中登记其扫描日志（windows_scan_logs）",
            ),
            **evidence,
        )
    found = ctx.read("win:scan_logs", lambda: records.read_file_times(ctx.runner, logs))
    evidence["files"] = [{"path": p, "written": w.isoformat(timespec="seconds")} for p, w in found]
    if not found:
        return failed(msg(f"no scan log of {names} found", f"未找到 {names} 的扫描日志"), **evidence)
    path, last = max(found, key=lambda item: item[1])
    age = age_days(ctx.now, last)
    evidence |= {"last_scan_log": path, "age_days": age}
    if age > limit:
        return failed(
            msg(
                f"last scan by {names} {age:g} days ago (limit {limit})",
                f"{names} 上次扫描在 {age:g} 天前（上限 {limit} 天）",
            ),
            **evidence,
        )
    return passed(
        msg(f"last scan by {names} {age:g} days ago", f"{names} 上次扫描在 {age:g} 天前"), **evidence
    )


def _defender_scan(status: win.DefenderStatus | None, limit: int) -> Finding:
    if status is None:
        return errored(
            msg(
                "scan history not exposed (no Defender and no third-party product)",
                "无法读取扫描记录（既无 Defender 也无第三方杀毒软件）",
            )
        )
    ages = [a for a in (status.quick_scan_age_days, status.full_scan_age_days) if a is not None]
    evidence = {
        "quick_scan_age_days": status.quick_scan_age_days,
        "full_scan_age_days": status.full_scan_age_days,
        "max_age_days": limit,
    }
    if not ages:
        return failed(msg("no scan has ever completed", "从未完成过病毒扫描"), **evidence)
    if min(ages) > limit:
        return failed(
            msg(
                f"last scan {min(ages)} days ago (limit {limit})",
                f"上次扫描在 {min(ages)} 天前（上限 {limit} 天）",
            ),
            **evidence,
        )
    return passed(msg(f"last scan {min(ages)} days ago", f"上次扫描在 {min(ages)} 天前"), **evidence)
