"""Windows enforcement: registry policy, local accounts, adapters (fixed scripts; names as data)."""

from __future__ import annotations

from functools import partial
from typing import Any

from collectors.system.windows import changes as win_changes
from collectors.system.windows import readers as win
from collectors.system.windows import registry as reg
from collectors.system.windows import usb_policy as usb
from common.errors import HostwardError
from policies.enforce_base import Change, EnforceContext, run_command, set_registry
from policies.schema import CheckSpec, Parameters

USBSTOR = usb.USBSTOR
REMOVABLE = usb.REMOVABLE
USB_NAME = USBSTOR + " + RemovableStorageDevices"
# Group Policy "Removable Storage Access": the values each device class has (WPD: no execute).
DENY_RWX = ("Deny_Read", "Deny_Write", "Deny_Execute")
DENY_VALUES = {
    usb.CLASS_REMOVABLE_DISK: DENY_RWX,
    usb.CLASS_WPD[0]: ("Deny_Read", "Deny_Write"),
    usb.CLASS_WPD[1]: ("Deny_Read", "Deny_Write"),
    usb.CLASS_CDROM: DENY_RWX,
    usb.CLASS_FLOPPY: DENY_RWX,
}


def usb_wanted(params: Parameters) -> list[tuple[str, str]]:
    """(key, value name) set to DWORD 1 (USBSTOR Start: 4): USB-1 disks and phones (WPD);
    USB-2 (modules name a CD or floppy driver) adds CD/DVD and floppy drives."""
    media = bool(set(params.modules or ()) & {"sr_mod", "cdrom", "floppy"})
    classes = [usb.CLASS_REMOVABLE_DISK, *usb.CLASS_WPD]
    if media:
        classes += [usb.CLASS_CDROM, usb.CLASS_FLOPPY]
    return [(USBSTOR, "Start")] + [(f"{REMOVABLE}\\{c}", v) for c in classes for v in DENY_VALUES[c]]


def usb_lockdown(ctx: EnforceContext, spec: CheckSpec, params: Parameters) -> Change:
    """USBSTOR Start=4 and the removable-storage deny policies, set value by value through the
    registry, each old value in the undo log first (a crash mid-way is rolled back)."""
    registry = ctx.registry or reg.local()
    todo: list[tuple[str, str, reg.RegValue | None, reg.RegValue]] = []
    for key, name in usb_wanted(params):
        new = reg.dword(4 if name == "Start" else 1)
        old = registry.get(key, name)
        if old != new:
            todo.append((key, name, old, new))
    if not todo:
        return Change(USB_NAME, spec.id, True, {}, "already in place")
    what: dict[str, Any] = {
        "values": [
            {"key": k, "name": n, "old": None if o is None else o.data, "new": v.data} for k, n, o, v in todo
        ]
    }
    if ctx.dry_run:
        return Change(USB_NAME, spec.id, None, what, "would set (dry run)")
    for key, name, _, new in todo:
        try:
            set_registry(ctx, registry, key, name, new)
        except HostwardError as exc:
            return Change(USB_NAME, spec.id, False, what, f"stopped at {key}\\{name}: {exc}")
    return Change(USB_NAME, spec.id, True, what, "set; USB storage is refused from the next plug-in")


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
