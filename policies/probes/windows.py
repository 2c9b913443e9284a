"""Windows probes: the same checks, read from structured PowerShell/CIM output or the registry.

Antivirus and patches live in windows_av.py and patches.py.
"""

from __future__ import annotations

from typing import Any

from collectors.system.evidence import NoEvidence
from collectors.system.files import SystemReadError
from collectors.system.windows import readers as win
from collectors.system.windows import records, usb_policy
from collectors.system.windows.registry import Registry, RegistryError
from collectors.system.windows.registry import local as local_registry
from policies.context import ProbeContext
from policies.probes import windows_av
from policies.probes.common import age_days, denied
from policies.result import Finding, errored, failed, joined, msg, not_applicable, passed


def _read(ctx: ProbeContext, name: str) -> Any:
    return ctx.read(f"win:{name}", lambda: win.read(ctx.runner, name))


def session_accounts(ctx: ProbeContext) -> list[str] | None:
    """Owners of interactive sessions (explorer.exe), "DOMAIN\\user"; None if unreadable."""
    try:
        return records.parse_session_owners(_read(ctx, "sessions"))
    except SystemReadError:
        return None


def _registry(ctx: ProbeContext, reader: str) -> Registry:
    if ctx.registry is not None:
        return ctx.registry
    try:
        return local_registry()
    except RegistryError as exc:
        raise NoEvidence(reader, f"no registry to read: {exc}", f"没有可读取的注册表：{exc}") from exc


def usb_storage_blocked(ctx: ProbeContext) -> Finding:
    start = ctx.read("reg:usbstor", lambda: usb_policy.read_usbstor_start(_registry(ctx, "usbstor")))
    policy = ctx.read(
        "reg:removable_policy",
        lambda: usb_policy.read_removable_policy(_registry(ctx, "removable_policy")),
    )
    modules = set(ctx.params.modules or ())
    needed = {usb_policy.CLASS_REMOVABLE_DISK, *usb_policy.CLASS_WPD}
    if modules & {"sr_mod", "cdrom"}:
        needed.add(usb_policy.CLASS_CDROM)
    if "floppy" in modules:
        needed.add(usb_policy.CLASS_FLOPPY)
    missing = sorted(needed - policy.denied_classes) if not policy.deny_all else []
    problems = []
    if start is None:
        problems.append(
            msg(
                "USBSTOR Start is not set as a DWORD (Windows sets 3 = enabled at the first USB disk; "
                "4 = disabled)",
                "USBSTOR 的 Start 未以 DWORD 设置（Windows 在插入第一个 U 盘时设为 3 即启用；4 为禁用）",
            )
        )
    elif start != 4:
        problems.append(
            msg(f"USBSTOR Start is {start} (4 = disabled)", f"USBSTOR 的 Start 为 {start}（4 为禁用）")
        )
    if missing:
        classes = ", ".join(missing)
        problems.append(msg(f"no deny policy for classes {classes}", f"以下设备类没有拒绝策略：{classes}"))
    evidence = {
        "usbstor_start": start,
        "registry": usb_policy.USBSTOR,
        "policy_registry": usb_policy.REMOVABLE,
        "deny_all": policy.deny_all,
        "denied_classes": sorted(policy.denied_classes),
        "required_classes": sorted(needed),
        "session_accounts": session_accounts(ctx),
    }
    if problems:
        return failed(joined(problems), **evidence)
    return passed(
        msg(
            "USBSTOR disabled and removable-storage (incl. phones/WPD) denied",
            "USBSTOR 已禁用，可移动存储（含手机/WPD）已拒绝",
        ),
        **evidence,
    )


def usb_media_scanned(ctx: ProbeContext) -> Finding:
    devices = win.parse_usb_devices(_read(ctx, "usb_devices"))
    defender = windows_av.defender(ctx)
    products = windows_av.products(ctx) or []
    third_party = [p.name for p in products if p.enabled and "defender" not in p.name.lower()]
    on_access = defender is not None and defender.realtime and defender.on_access
    evidence = {
        "usb_storage_devices": devices,
        "defender_on_access": on_access,
        "third_party_enabled": third_party,
    }
    if on_access or third_party:
        return passed(msg("on-access scanning is on", "实时扫描已开启"), **evidence)
    return failed(
        msg(
            "no on-access scanning: removable media are opened unscanned",
            "未开启实时扫描：可移动介质未经查毒即被打开",
        ),
        **evidence,
    )


def _users(ctx: ProbeContext) -> list[win.LocalUser]:
    return win.parse_local_users(_read(ctx, "local_users"))


def password_max_age(ctx: ProbeContext) -> Finding:
    max_age = ctx.params.max_age_days or 90
    max_policy = ctx.params.max_policy_days or 90
    problems, judged = [], {}
    users = _users(ctx)
    for u in users:
        if not u.enabled or u.password_last_set is None:
            continue
        age = age_days(ctx.now, u.password_last_set)
        lifetime = (
            None
            if u.password_expires is None
            else round((u.password_expires - u.password_last_set).total_seconds() / 86400)
        )
        judged[u.name] = {"password_age_days": age, "max_days": lifetime}
        if lifetime is None or lifetime > max_policy:
            problems.append(
                msg(
                    f"{u.name}: password {'never expires' if lifetime is None else f'lives {lifetime} days'}",
                    f"{u.name}：密码{'永不过期' if lifetime is None else f'有效期 {lifetime} 天'}",
                )
            )
        if age > max_age:
            problems.append(
                msg(
                    f"{u.name}: password is {age:g} days old (limit {max_age})",
                    f"{u.name}：密码已使用 {age:g} 天（上限 {max_age} 天）",
                )
            )
    evidence = {
        "accounts": judged,
        "accounts_read": [u.name for u in users],
        "max_age_days": max_age,
        "max_policy_days": max_policy,
    }
    if problems:
        return failed(joined(problems), **evidence)
    return passed(
        msg(
            f"{len(judged)} enabled account(s) within {max_age} days",
            f"{len(judged)} 个启用账户均在 {max_age} 天内",
        ),
        **evidence,
    )


def login_password_set(ctx: ProbeContext) -> Finding:
    users = [u for u in _users(ctx) if u.enabled]
    empty = [u.name for u in users if not u.password_required]
    evidence = {"enabled": [u.name for u in users], "password_not_required": empty}
    if empty:
        names = ", ".join(empty)
        return failed(
            msg(f"accounts that may log in without a password: {names}", f"可无密码登录的账户：{names}"),
            **evidence,
        )
    return passed(msg("every enabled account requires a password", "所有启用账户都需要密码"), **evidence)


def leavers_disabled(ctx: ProbeContext) -> Finding:
    if ctx.inputs.leavers_error:
        error = ctx.inputs.leavers_error
        return errored(msg(f"leavers list unreadable: {error}", f"离职人员名单无法读取：{error}"))
    if ctx.inputs.leavers is None:
        return not_applicable(
            msg("no leavers list configured (audit.leavers_file)", "未配置离职人员名单（audit.leavers_file）")
        )
    users = {u.name.lower(): u for u in _users(ctx)}
    enabled = [
        lv.account
        for lv in ctx.inputs.leavers
        if lv.account.lower() in users and users[lv.account.lower()].enabled
    ]
    evidence = {"still_enabled": enabled, "leavers_file": ctx.inputs.leavers_source}
    if enabled:
        names = ", ".join(enabled)
        return failed(
            msg(f"leavers' accounts still enabled: {names}", f"离职人员账户仍启用：{names}"), **evidence
        )
    count = len(ctx.inputs.leavers)
    return passed(msg(f"{count} leaver(s): none enabled", f"{count} 名离职人员：账户均已停用"), **evidence)


def no_shared_accounts(ctx: ProbeContext) -> Finding:
    shared = [u.name for u in _users(ctx) if u.enabled and u.rid in (501, 503)]  # Guest, DefaultAccount
    evidence = {"enabled_shared_builtin": shared}
    if shared:
        names = ", ".join(shared)
        return failed(
            msg(f"shared built-in accounts enabled: {names}", f"共用内置账户已启用：{names}"), **evidence
        )
    return passed(msg("Guest and DefaultAccount are disabled", "Guest 与 DefaultAccount 已停用"), **evidence)


def screen_lock(ctx: ProbeContext) -> Finding:
    limit = (ctx.params.max_minutes or 15) * 60
    secs = win.parse_screen_lock(_read(ctx, "screen_lock"))
    evidence = {
        "inactivity_timeout_seconds": secs,
        "max_seconds": limit,
        "registry": r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System",
    }
    if secs is None or secs == 0:
        return failed(
            msg(
                "no machine inactivity limit (InactivityTimeoutSecs) is set",
                "未设置计算机无操作锁定时间（InactivityTimeoutSecs）",
            ),
            **evidence,
        )
    if secs > limit:
        return failed(
            msg(f"locks after {secs}s (limit {limit}s)", f"{secs} 秒后锁屏（上限 {limit} 秒）"), **evidence
        )
    return passed(msg(f"locks after {secs}s", f"{secs} 秒后锁屏"), **evidence)


def forbidden_software(ctx: ProbeContext) -> Finding:
    programs = win.parse_programs(_read(ctx, "programs"))
    procs = win.parse_processes(_read(ctx, "processes")) if ctx.target.live else set()
    deny, allow = ctx.params.deny or (), ctx.params.allow or ()
    bad = denied(programs, deny, allow)
    bad_procs = denied(procs, deny, allow)
    evidence = {"installed": bad, "running": bad_procs, "programs_checked": len(programs)}
    if bad or bad_procs:
        names = ", ".join(sorted(set(bad) | set(bad_procs)))
        return failed(msg(f"forbidden software: {names}", f"禁用软件：{names}"), **evidence)
    return passed(
        msg(
            f"none of {len(deny)} forbidden names installed or running",
            f"{len(deny)} 个禁用名称均未安装或运行",
        ),
        **evidence,
    )


def listening_services(ctx: ProbeContext) -> Finding:
    allowed = set(ctx.params.allowed_ports or ())
    listeners = win.parse_listeners(_read(ctx, "listeners"))
    exposed = sorted({f"{a}:{p}" for a, p in listeners if a not in ("127.0.0.1", "::1") and p not in allowed})
    evidence = {"not_allowed": exposed, "allowed_ports": sorted(allowed)}
    if exposed:
        names = ", ".join(exposed)
        return failed(
            msg(f"services not on the allow-list listen: {names}", f"未列入允许清单的服务在监听：{names}"),
            **evidence,
        )
    return passed(msg("only allowed services listen", "只有允许的服务在监听"), **evidence)
