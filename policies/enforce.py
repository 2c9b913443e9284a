"""Enforcement: bring a host in line with opted-in checks, Salt-style, idempotent, dry-run first.

Each action compares the wanted state with what is there and returns change records
(`name, result, changes, comment`): result True = in place (changes lists what was done, empty
when nothing was needed), None = would change (dry run), False = could not. A second run right
after a successful one changes nothing. A check a current waiver or person exemption covers is
left as it is (`enforce_waivers.py`): result True, no changes, `waived` naming the approver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from collectors.system.files import read_text
from collectors.system.linux import accounts, changes, kernel, usb
from collectors.system.linux import network as linux_net
from collectors.system.runner import Runner
from collectors.system.windows.registry import Registry
from common.errors import HostwardError
from policies import enforce_windows
from policies.config import ParameterOverride, PersonExemption, Waiver
from policies.context import AuditInputs, Target
from policies.enforce_base import Action, Change, EnforceContext, run_command, write_file
from policies.enforce_waivers import covering_waiver, waiver_comment, waiver_record
from policies.engine import applicability, parameters_for
from policies.library import Library
from policies.schema import CheckSpec, Parameters
from policies.undo import UndoLog

MODPROBE_FILE = "/etc/modprobe.d/hostward-{check}.conf"


def usb_lockdown(ctx: EnforceContext, spec: CheckSpec, params: Parameters) -> list[Change]:
    if ctx.target.platform == "windows":
        return [enforce_windows.usb_lockdown(ctx, spec, params)]
    path = MODPROBE_FILE.format(check=spec.id.replace(".", "-"))
    modules = [kernel.norm_module(m).replace("_", "-") for m in params.modules or ("usb_storage",)]
    wanted = "# Written by hostward enforce (USB-1/USB-2). Do not edit: it is rewritten.\n" + "".join(
        f"install {m} /bin/false\nblacklist {m}\n" for m in modules
    )
    out = _usbguard_block(ctx, spec)
    current = read_text(ctx.target.root, path)
    config = kernel.read_modprobe(ctx.target.root)
    if all(config.install_disabled(m) and kernel.norm_module(m) in config.blacklist for m in modules):
        return [Change(path, spec.id, True, {}, "already blocked in modprobe.d"), *out]
    what = {"file": path, "old": current, "new": wanted}
    if ctx.dry_run:
        return [Change(path, spec.id, None, what, "would write (dry run)"), *out]
    try:
        write_file(ctx, path, wanted)
    except HostwardError as exc:
        return [Change(path, spec.id, False, {}, str(exc)), *out]
    return [Change(path, spec.id, True, what, "written; takes effect for new devices at once"), *out]


USBGUARD_BLOCK = "block with-interface one-of { 08:*:* } # hostward: USB-1/USB-2 mass storage\n"


def _usbguard_block(ctx: EnforceContext, spec: CheckSpec) -> list[Change]:
    """Where USBGuard is installed, put a mass-storage block rule first in its rules file."""
    guard = usb.read_usbguard(ctx.target.root)
    if not guard.installed:
        return []
    rules = read_text(ctx.target.root, guard.rules_file) or ""
    if not usb.storage_allowed(rules) and USBGUARD_BLOCK in rules:
        return [Change(guard.rules_file, spec.id, True, {}, "USBGuard already blocks mass storage")]
    what = {"file": guard.rules_file, "prepended": USBGUARD_BLOCK.strip()}
    if ctx.dry_run:
        return [Change(guard.rules_file, spec.id, None, what, "would prepend (dry run)")]
    try:
        write_file(ctx, guard.rules_file, USBGUARD_BLOCK + rules, mode=0o600)
    except HostwardError as exc:
        return [Change(guard.rules_file, spec.id, False, {}, str(exc))]
    return [Change(guard.rules_file, spec.id, True, what, "prepended; reload usbguard to apply")]


def password_max_age(ctx: EnforceContext, spec: CheckSpec, params: Parameters) -> list[Change]:
    if ctx.target.platform == "windows":
        return enforce_windows.password_max_age(ctx, spec, params.max_policy_days or 90)
    root, limit = ctx.target.root, params.max_policy_days or 90
    min_uid = params.min_uid if params.min_uid is not None else 1000
    out: list[Change] = []
    defs_text = read_text(root, "/etc/login.defs") or ""
    current = accounts.check_login_defs(defs_text).get("PASS_MAX_DAYS")
    if current is None or not current.isdigit() or int(current) > limit:
        what = {"PASS_MAX_DAYS": {"old": current, "new": limit}}
        if ctx.dry_run:
            out.append(Change("/etc/login.defs", spec.id, None, what, "would set (dry run)"))
        else:
            try:
                new_defs = changes.set_key_value(defs_text, "PASS_MAX_DAYS", str(limit))
                write_file(ctx, "/etc/login.defs", new_defs)
                out.append(Change("/etc/login.defs", spec.id, True, what, "changed"))
            except HostwardError as exc:
                out.append(Change("/etc/login.defs", spec.id, False, {}, str(exc)))
    else:
        out.append(Change("/etc/login.defs", spec.id, True, {}, f"PASS_MAX_DAYS {current} already ≤ {limit}"))
    shadow = accounts.read_shadow(root).records
    for user in accounts.read_passwd(root).records:
        entry = shadow.get(user.name)
        if not user.interactive or not (user.uid == 0 or user.uid >= min_uid):
            continue
        if entry is None or entry.hash_state != "set":
            continue
        if entry.max_days is not None and entry.max_days <= limit:
            out.append(
                Change(
                    f"account {user.name}",
                    spec.id,
                    True,
                    {},
                    f"maximum age {entry.max_days} already ≤ {limit}",
                )
            )
            continue
        what = {"max_days": {"old": entry.max_days, "new": limit}}
        out.append(
            run_command(
                ctx,
                f"account {user.name}",
                spec.id,
                what,
                partial(changes.chage_max_days, ctx.runner, root, user.name, limit),
            )
        )
    return out


def lock_leavers(ctx: EnforceContext, spec: CheckSpec, params: Parameters) -> list[Change]:
    if ctx.inputs.leavers is None:
        return [Change(spec.id, spec.id, True, {}, "no leavers list configured; nothing to do")]
    if ctx.inputs.leavers_error:
        return [Change(spec.id, spec.id, False, {}, f"leavers list unreadable: {ctx.inputs.leavers_error}")]
    if ctx.target.platform == "windows":
        return enforce_windows.lock_leavers(ctx, spec)
    root = ctx.target.root
    users = {u.name for u in accounts.read_passwd(root).records}
    shadow = accounts.read_shadow(root).records
    today = _today()
    out = []
    for leaver in ctx.inputs.leavers:
        entry = shadow.get(leaver.account)
        name = f"account {leaver.account}"
        if leaver.account not in users:
            out.append(Change(name, spec.id, True, {}, "no such account"))
        elif entry is not None and entry.hash_state == "locked" and entry.expired(today):
            out.append(Change(name, spec.id, True, {}, "already locked and expired"))
        else:
            what = {"locked": True, "expired": True, "left": leaver.date_left.isoformat()}
            out.append(
                run_command(
                    ctx,
                    name,
                    spec.id,
                    what,
                    partial(changes.lock_account, ctx.runner, root, leaver.account),
                )
            )
    return out


def wireless_down(ctx: EnforceContext, spec: CheckSpec, params: Parameters) -> list[Change]:
    if not ctx.target.live:
        return [Change(spec.id, spec.id, False, {}, "needs the running system")]
    kinds = set(params.forbidden_interfaces or ("wireless", "wwan", "tether"))
    out = []
    if ctx.target.platform == "windows":
        from collectors.system.windows import changes as win_changes
        from collectors.system.windows import network as win_net

        interfaces = win_net.read_network(ctx.runner)[0]
        take_down: Callable[[Runner, str], Any] = win_changes.disable_adapter
    else:
        interfaces = linux_net.read_interfaces(ctx.runner, ctx.target.root)
        take_down = changes.link_down
    for iface in interfaces:
        if iface.kind not in kinds:
            continue
        name = f"interface {iface.name}"
        if not iface.up:
            out.append(Change(name, spec.id, True, {}, f"{iface.kind} interface already down"))
        else:
            out.append(
                run_command(
                    ctx,
                    name,
                    spec.id,
                    {"up": {"old": True, "new": False}},
                    partial(take_down, ctx.runner, iface.name),
                )
            )
    return out or [Change(spec.id, spec.id, True, {}, "no wireless, cellular or tethering interface")]


def _today() -> int:
    import time

    return int(time.time() // 86400)


ACTIONS: dict[str, Action] = {
    "usb_lockdown": usb_lockdown,
    "password_max_age": password_max_age,
    "lock_leavers": lock_leavers,
    "wireless_down": wireless_down,
}


def enforce(
    library: Library,
    target: Target,
    runner: Runner,
    inputs: AuditInputs,
    *,
    opted_in: Iterable[str],
    only: Iterable[str] | None = None,
    overrides: Sequence[ParameterOverride] = (),
    waivers: Sequence[Waiver] = (),
    exemptions: Sequence[PersonExemption] = (),
    now: datetime | None = None,
    dry_run: bool = False,
    undo: UndoLog | None = None,
    registry: Registry | None = None,
) -> list[Change]:
    """Apply (or, with dry_run, preview) the enforcement of every opted-in, applicable check.

    A check named in `only` but not opted in gets a result False record saying so. A check a
    current waiver or person exemption covers is not changed: one result True record, no
    changes, `waived` set. With `undo`, every file's old content and every changing command is
    logged before it is changed. `registry`: Windows registry changes go there (default: the
    local registry).
    """
    now = now or datetime.now(UTC)
    allowed = set(opted_in)
    wanted = set(only) if only is not None else None
    ctx = EnforceContext(target, runner, inputs, dry_run, undo, registry)
    out: list[Change] = []
    for spec in library.checks:
        if spec.enforcement is None or (wanted is not None and spec.id not in wanted):
            continue
        if spec.id not in allowed:
            if wanted is not None:
                out.append(Change(spec.id, spec.id, False, {}, "not opted in: add it to audit.enforce"))
            continue
        params = parameters_for(spec, target, overrides)
        skipped = applicability(spec, target, params)
        if skipped is not None:
            out.append(Change(spec.id, spec.id, True, {}, f"does not apply: {skipped.reason}"))
            continue
        try:
            note = covering_waiver(
                spec, target, runner, inputs, params, waivers=waivers, exemptions=exemptions, now=now
            )
            if note is not None:
                out.append(Change(spec.id, spec.id, True, {}, waiver_comment(note), waiver_record(note)))
                continue
            out.extend(ACTIONS[spec.enforcement.action](ctx, spec, params))
        except HostwardError as exc:
            out.append(Change(spec.id, spec.id, False, {}, f"could not read the current state: {exc}"))
    if wanted is not None:
        known = {s.id for s in library.checks if s.enforcement is not None}
        for check_id in sorted(wanted - known):
            out.append(Change(check_id, check_id, False, {}, "no such check with an enforcement"))
    return out
