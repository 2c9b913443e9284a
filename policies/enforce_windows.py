"""Windows enforcement: registry policy, local accounts, adapters (fixed scripts; names as data)."""

from __future__ import annotations

from functools import partial

from collectors.system.windows import changes as win_changes
from collectors.system.windows import readers as win
from policies.enforce_base import Change, EnforceContext, run_command
from policies.schema import CheckSpec, Parameters


def usb_lockdown(ctx: EnforceContext, spec: CheckSpec, params: Parameters) -> Change:
    """USBSTOR Start=4 and the removable-storage deny policies (CD/floppy too for USB-2)."""
    name = r"HKLM\SYSTEM\CurrentControlSet\Services\USBSTOR + RemovableStorageDevices"
    media = bool(set(params.modules or ()) & {"sr_mod", "cdrom", "floppy"})
    needed = {win.CLASS_REMOVABLE_DISK, *win.CLASS_WPD}
    if media:
        needed |= {win.CLASS_CDROM, win.CLASS_FLOPPY}
    start = win.parse_usbstor_start(win.read(ctx.runner, "usbstor"))
    policy = win.parse_removable_policy(win.read(ctx.runner, "removable_policy"))
    missing = set() if policy.deny_all else needed - policy.denied_classes
    if start == 4 and not missing:
        return Change(name, spec.id, True, {}, "already in place")
    what = {"usbstor_start": {"old": start, "new": 4}, "deny_classes_added": sorted(missing)}
    script = "media_lockdown" if media else "usb_lockdown"
    return run_command(ctx, name, spec.id, what, partial(win_changes.run_script, ctx.runner, script))


def password_max_age(ctx: EnforceContext, spec: CheckSpec, limit: int) -> list[Change]:
    """`net accounts /maxpwage:N` when an account's password outlives N days; per account, clear
    "password never expires". Judged from Get-LocalUser objects, never from localized text."""
    users = [
        u
        for u in win.parse_local_users(win.read(ctx.runner, "local_users"))
        if u.enabled and u.password_last_set is not None
    ]
    out = []
    never = [u for u in users if u.password_expires is None]
    too_long = [
        u
        for u in users
        if u.password_expires is not None
        and u.password_last_set is not None
        and (u.password_expires - u.password_last_set).days > limit
    ]
    if too_long:
        what = {"maxpwage_days": limit, "accounts": [u.name for u in too_long]}
        out.append(
            run_command(
                ctx,
                "local password policy",
                spec.id,
                what,
                partial(win_changes.set_max_password_age, ctx.runner, limit),
            )
        )
    else:
        out.append(Change("local password policy", spec.id, True, {}, f"no password outlives {limit} days"))
    for u in never:
        what = {"password_never_expires": {"old": True, "new": False}}
        out.append(
            run_command(
                ctx,
                f"account {u.name}",
                spec.id,
                what,
                partial(win_changes.password_expires, ctx.runner, u.name),
            )
        )
    return out


def lock_leavers(ctx: EnforceContext, spec: CheckSpec) -> list[Change]:
    """Disable-LocalUser; the account name reaches PowerShell as an environment variable."""
    users = {u.name.lower(): u for u in win.parse_local_users(win.read(ctx.runner, "local_users"))}
    out = []
    for leaver in ctx.inputs.leavers or ():
        user = users.get(leaver.account.lower())
        name = f"account {leaver.account}"
        if user is None:
            out.append(Change(name, spec.id, True, {}, "no such account"))
        elif not user.enabled:
            out.append(Change(name, spec.id, True, {}, "already disabled"))
        else:
            what = {"enabled": {"old": True, "new": False}, "left": leaver.date_left.isoformat()}
            run = partial(win_changes.disable_user, ctx.runner, user.name)
            out.append(run_command(ctx, name, spec.id, what, run))
    return out
