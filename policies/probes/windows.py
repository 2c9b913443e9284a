"""Windows probes: the same checks, read from structured PowerShell/CIM/registry output."""

from __future__ import annotations

from typing import Any

from collectors.system.files import SystemReadError
from collectors.system.windows import readers as win
from collectors.system.windows.powershell import NamespaceMissing
from policies.context import ProbeContext
from policies.probes.common import age_days, denied
from policies.result import Finding, errored, failed, not_applicable, passed


def _read(ctx: ProbeContext, name: str) -> Any:
    return ctx.read(f"win:{name}", lambda: win.read(ctx.runner, name))


def _defender(ctx: ProbeContext) -> win.DefenderStatus | None:
    try:
        return win.parse_mp_status(_read(ctx, "mp_status"))
    except SystemReadError:
        return None  # Defender absent or removed (a third-party product may have replaced it)


def _products(ctx: ProbeContext) -> list[win.AvProduct] | None:
    """Security Center products; None where Security Center does not exist (Windows Server)."""
    try:
        return win.parse_av_products(_read(ctx, "av_products"))
    except NamespaceMissing:
        return None


def _product_evidence(products: list[win.AvProduct] | None) -> Any:
    if products is None:
        return None
    return [
        {"name": p.name, "product_state": p.product_state, "enabled": p.enabled, "up_to_date": p.up_to_date}
        for p in products
    ]


def usb_storage_blocked(ctx: ProbeContext) -> Finding:
    start = win.parse_usbstor_start(_read(ctx, "usbstor"))
    policy = win.parse_removable_policy(_read(ctx, "removable_policy"))
    modules = set(ctx.params.modules or ())
    needed = {win.CLASS_REMOVABLE_DISK, *win.CLASS_WPD}
    if modules & {"sr_mod", "cdrom"}:
        needed.add(win.CLASS_CDROM)
    if "floppy" in modules:
        needed.add(win.CLASS_FLOPPY)
    missing = sorted(needed - policy.denied_classes) if not policy.deny_all else []
    problems = []
    if start != 4:
        problems.append(f"USBSTOR Start is {start} (4 = disabled)")
    if missing:
        problems.append(f"no deny policy for classes {', '.join(missing)}")
    evidence = {
        "usbstor_start": start,
        "registry": r"HKLM\SYSTEM\CurrentControlSet\Services\USBSTOR",
        "deny_all": policy.deny_all,
        "denied_classes": sorted(policy.denied_classes),
        "required_classes": sorted(needed),
    }
    if problems:
        return failed("; ".join(problems), **evidence)
    return passed("USBSTOR disabled and removable-storage (incl. phones/WPD) denied", **evidence)


def usb_media_scanned(ctx: ProbeContext) -> Finding:
    devices = win.parse_usb_devices(_read(ctx, "usb_devices"))
    defender = _defender(ctx)
    products = _products(ctx) or []
    third_party = [p.name for p in products if p.enabled and "defender" not in p.name.lower()]
    on_access = defender is not None and defender.realtime and defender.on_access
    evidence = {
        "usb_storage_devices": devices,
        "defender_on_access": on_access,
        "third_party_enabled": third_party,
    }
    if on_access or third_party:
        return passed("on-access scanning is on", **evidence)
    return failed("no on-access scanning: removable media are opened unscanned", **evidence)


def av_installed_running(ctx: ProbeContext) -> Finding:
    products = _products(ctx)
    defender = _defender(ctx)
    evidence = {
        "security_center": _product_evidence(products),
        "defender": None
        if defender is None
        else {
            "service": defender.service_enabled,
            "antivirus": defender.antivirus_enabled,
            "realtime": defender.realtime,
        },
    }
    if products:
        on = [p.name for p in products if p.enabled]
        if on:
            return passed(f"enabled: {', '.join(on)}", **evidence)
        return failed(f"installed but off: {', '.join(p.name for p in products)}", **evidence)
    if defender is not None and defender.service_enabled and defender.antivirus_enabled:
        where = "Security Center absent; " if products is None else ""
        return passed(f"{where}Microsoft Defender is running", **evidence)
    return failed("no antivirus product is installed and running", **evidence)


def av_signatures_current(ctx: ProbeContext) -> Finding:
    limit = ctx.params.max_age_days or 3
    products = _products(ctx) or []
    defender = _defender(ctx)
    third = [p for p in products if p.enabled and "defender" not in p.name.lower()]
    evidence: dict[str, Any] = {"security_center": _product_evidence(products), "max_age_days": limit}
    if third:
        stale = [p.name for p in third if not p.up_to_date]
        if stale:
            return failed(f"signatures out of date: {', '.join(stale)}", **evidence)
        return passed(f"up to date: {', '.join(p.name for p in third)}", **evidence)
    if defender is None or defender.signature_age_days is None:
        return errored("no active antivirus reports its signature age", **evidence)
    evidence |= {
        "defender_signature_age_days": defender.signature_age_days,
        "defender_signature_version": defender.signature_version,
    }
    if defender.signature_age_days > limit:
        return failed(
            f"Defender signatures {defender.signature_age_days} days old (limit {limit})", **evidence
        )
    return passed(f"Defender signatures {defender.signature_age_days} days old", **evidence)


def av_scan_recent(ctx: ProbeContext) -> Finding:
    limit = ctx.params.max_age_days or 7
    defender = _defender(ctx)
    ages = (
        []
        if defender is None
        else [a for a in (defender.quick_scan_age_days, defender.full_scan_age_days) if a is not None]
    )
    evidence = {
        "quick_scan_age_days": defender and defender.quick_scan_age_days,
        "full_scan_age_days": defender and defender.full_scan_age_days,
        "max_age_days": limit,
    }
    if defender is None:
        return errored("scan history not exposed (Defender absent; third-party products do not report it)")
    if not ages:
        return failed("no scan has ever completed", **evidence)
    if min(ages) > limit:
        return failed(f"last scan {min(ages)} days ago (limit {limit})", **evidence)
    return passed(f"last scan {min(ages)} days ago", **evidence)


def os_updated(ctx: ProbeContext) -> Finding:
    limit = ctx.params.max_age_days or 31
    fixes = win.parse_hotfixes(_read(ctx, "hotfixes"))
    dated = [(kb, when) for kb, when in fixes if when is not None]
    if not dated:
        return failed("no hotfix with an install date", hotfixes=[kb for kb, _ in fixes])
    kb, when = max(((k, w) for k, w in dated if w is not None), key=lambda item: item[1])
    age = age_days(ctx.now, when)
    evidence = {
        "latest": kb,
        "installed_on": when.date().isoformat(),
        "age_days": age,
        "max_age_days": limit,
        "hotfixes": len(fixes),
    }
    if age > limit:
        return failed(f"last update {kb} {age:g} days ago (limit {limit})", **evidence)
    return passed(f"last update {kb} {age:g} days ago", **evidence)


def _users(ctx: ProbeContext) -> list[win.LocalUser]:
    return win.parse_local_users(_read(ctx, "local_users"))


def password_max_age(ctx: ProbeContext) -> Finding:
    max_age = ctx.params.max_age_days or 90
    max_policy = ctx.params.max_policy_days or 90
    problems, judged = [], {}
    for u in _users(ctx):
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
                f"{u.name}: password {'never expires' if lifetime is None else f'lives {lifetime} days'}"
            )
        if age > max_age:
            problems.append(f"{u.name}: password is {age:g} days old (limit {max_age})")
    evidence = {"accounts": judged, "max_age_days": max_age, "max_policy_days": max_policy}
    if problems:
        return failed("; ".join(problems), **evidence)
    return passed(f"{len(judged)} enabled account(s) within {max_age} days", **evidence)


def login_password_set(ctx: ProbeContext) -> Finding:
    users = [u for u in _users(ctx) if u.enabled]
    empty = [u.name for u in users if not u.password_required]
    evidence = {"enabled": [u.name for u in users], "password_not_required": empty}
    if empty:
        return failed(f"accounts that may log in without a password: {', '.join(empty)}", **evidence)
    return passed("every enabled account requires a password", **evidence)


def leavers_disabled(ctx: ProbeContext) -> Finding:
    if ctx.inputs.leavers_error:
        return Finding("error", f"leavers list unreadable: {ctx.inputs.leavers_error}")
    if ctx.inputs.leavers is None:
        return not_applicable("no leavers list configured (audit.leavers_file)")
    users = {u.name.lower(): u for u in _users(ctx)}
    enabled = [
        lv.account
        for lv in ctx.inputs.leavers
        if lv.account.lower() in users and users[lv.account.lower()].enabled
    ]
    evidence = {"still_enabled": enabled, "leavers_file": ctx.inputs.leavers_source}
    if enabled:
        return failed(f"leavers' accounts still enabled: {', '.join(enabled)}", **evidence)
    return passed(f"{len(ctx.inputs.leavers)} leaver(s): none enabled", **evidence)


def no_shared_accounts(ctx: ProbeContext) -> Finding:
    shared = [u.name for u in _users(ctx) if u.enabled and u.rid in (501, 503)]  # Guest, DefaultAccount
    evidence = {"enabled_shared_builtin": shared}
    if shared:
        return failed(f"shared built-in accounts enabled: {', '.join(shared)}", **evidence)
    return passed("Guest and DefaultAccount are disabled", **evidence)


def screen_lock(ctx: ProbeContext) -> Finding:
    limit = (ctx.params.max_minutes or 15) * 60
    secs = win.parse_screen_lock(_read(ctx, "screen_lock"))
    evidence = {
        "inactivity_timeout_seconds": secs,
        "max_seconds": limit,
        "registry": r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System",
    }
    if secs is None or secs == 0:
        return failed("no machine inactivity limit (InactivityTimeoutSecs) is set", **evidence)
    if secs > limit:
        return failed(f"locks after {secs}s (limit {limit}s)", **evidence)
    return passed(f"locks after {secs}s", **evidence)


def forbidden_software(ctx: ProbeContext) -> Finding:
    programs = win.parse_programs(_read(ctx, "programs"))
    procs = win.parse_processes(_read(ctx, "processes")) if ctx.target.live else set()
    deny, allow = ctx.params.deny or (), ctx.params.allow or ()
    bad = denied(programs, deny, allow)
    bad_procs = denied(procs, deny, allow)
    evidence = {"installed": bad, "running": bad_procs, "programs_checked": len(programs)}
    if bad or bad_procs:
        return failed(f"forbidden software: {', '.join(sorted(set(bad) | set(bad_procs)))}", **evidence)
    return passed(f"none of {len(deny)} forbidden names installed or running", **evidence)


def listening_services(ctx: ProbeContext) -> Finding:
    allowed = set(ctx.params.allowed_ports or ())
    listeners = win.parse_listeners(_read(ctx, "listeners"))
    exposed = sorted({f"{a}:{p}" for a, p in listeners if a not in ("127.0.0.1", "::1") and p not in allowed})
    evidence = {"not_allowed": exposed, "allowed_ports": sorted(allowed)}
    if exposed:
        return failed(f"services not on the allow-list listen: {', '.join(exposed)}", **evidence)
    return passed("only allowed services listen", **evidence)
