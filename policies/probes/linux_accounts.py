"""Linux probes for passwords, accounts and the screen lock (PWD-1/2, ACC-1/2, LOCK-1)."""

from __future__ import annotations

from collections import defaultdict

from collectors.system.linux import accounts, desktop
from policies.context import ProbeContext
from policies.result import Finding, failed, not_applicable, passed


def _today(ctx: ProbeContext) -> int:
    return int(ctx.now.timestamp() // 86400)


def _people(ctx: ProbeContext) -> list[tuple[accounts.PasswdEntry, accounts.ShadowEntry | None]]:
    """Interactive accounts (a login shell; root or UID >= min_uid) with their shadow entries."""
    root = ctx.target.root
    users = ctx.read("passwd", lambda: accounts.read_passwd(root))
    shadow = ctx.read("shadow", lambda: accounts.read_shadow(root))
    min_uid = ctx.params.min_uid if ctx.params.min_uid is not None else 1000
    return [(u, shadow.get(u.name)) for u in users if u.interactive and (u.uid == 0 or u.uid >= min_uid)]


def password_max_age(ctx: ProbeContext) -> Finding:
    max_age = ctx.params.max_age_days or 90
    max_policy = ctx.params.max_policy_days or 90
    defs = ctx.read("login.defs", lambda: accounts.read_login_defs(ctx.target.root))
    policy_text = defs.get("PASS_MAX_DAYS")
    policy = int(policy_text) if policy_text and policy_text.isdigit() else None
    today = _today(ctx)
    problems: list[str] = []
    judged: dict[str, dict[str, object]] = {}
    skipped: list[str] = []
    for user, entry in _people(ctx):
        if entry is None or entry.hash_state != "set":
            skipped.append(user.name)  # cannot log in by password: its age means nothing
            continue
        age = None if not entry.last_change else today - entry.last_change
        judged[user.name] = {"uid": user.uid, "password_age_days": age, "max_days": entry.max_days}
        if entry.max_days is None or entry.max_days > max_policy:
            problems.append(f"{user.name}: maximum age {entry.max_days or 'unlimited'} > {max_policy}")
        if age is not None and age > max_age:
            problems.append(f"{user.name}: password is {age} days old (limit {max_age})")
    if policy is None or policy > max_policy:
        problems.append(f"login.defs PASS_MAX_DAYS is {policy_text or 'unset'} (limit {max_policy})")
    evidence = {
        "accounts": judged,
        "not_judged_no_password_login": skipped,
        "login_defs_pass_max_days": policy_text,
        "max_age_days": max_age,
        "max_policy_days": max_policy,
        "files": ["/etc/shadow", "/etc/login.defs"],
    }
    if problems:
        return failed("; ".join(problems), **evidence)
    return passed(
        f"{len(judged)} password account(s) within {max_age} days and policy ≤ {max_policy}", **evidence
    )


def login_password_set(ctx: ProbeContext) -> Finding:
    people = _people(ctx)
    empty = [u.name for u, e in people if e is not None and e.hash_state == "empty"]
    missing = [u.name for u, e in people if e is None]
    evidence = {
        "empty_password": empty,
        "no_shadow_entry": missing,
        "interactive_accounts": [u.name for u, _ in people],
        "file": "/etc/shadow",
    }
    if empty:
        return failed(f"empty password: {', '.join(empty)}", **evidence)
    if missing:
        return Finding("error", f"no /etc/shadow entry for {', '.join(missing)}", evidence)
    return passed("every interactive account needs a password or key to log in", **evidence)


def leavers_disabled(ctx: ProbeContext) -> Finding:
    if ctx.inputs.leavers_error:
        return Finding("error", f"leavers list unreadable: {ctx.inputs.leavers_error}")
    leavers = ctx.inputs.leavers
    if leavers is None:
        return not_applicable("no leavers list configured (audit.leavers_file)")
    root = ctx.target.root
    users = {u.name: u for u in ctx.read("passwd", lambda: accounts.read_passwd(root))}
    shadow = ctx.read("shadow", lambda: accounts.read_shadow(root))
    today = _today(ctx)
    enabled, disabled, absent = [], [], []
    for leaver in leavers:
        entry = shadow.get(leaver.account)
        if leaver.account not in users:
            absent.append(leaver.account)
        elif entry is not None and (entry.hash_state == "locked" or entry.expired(today)):
            disabled.append(leaver.account)
        else:
            enabled.append(
                {"account": leaver.account, "name": leaver.name, "date_left": leaver.date_left.isoformat()}
            )
    evidence = {
        "still_enabled": enabled,
        "locked": disabled,
        "removed": absent,
        "leavers_file": ctx.inputs.leavers_source,
    }
    if enabled:
        names = ", ".join(str(e["account"]) for e in enabled)
        return failed(f"leavers' accounts still enabled: {names}", **evidence)
    return passed(f"{len(leavers)} leaver(s): none has an enabled account", **evidence)


def no_shared_accounts(ctx: ProbeContext) -> Finding:
    users = ctx.read("passwd", lambda: accounts.read_passwd(ctx.target.root))
    by_uid: dict[int, list[str]] = defaultdict(list)
    for u in users:
        by_uid[u.uid].append(u.name)
    extra_root = [n for n in by_uid.get(0, []) if n != "root"]
    shared = {str(uid): names for uid, names in by_uid.items() if len(names) > 1 and uid != 0}
    evidence = {"extra_uid0": extra_root, "duplicate_uids": shared, "file": "/etc/passwd"}
    problems = []
    if extra_root:
        problems.append(f"UID 0 besides root: {', '.join(extra_root)}")
    for uid, names in shared.items():
        problems.append(f"UID {uid} shared by {', '.join(names)}")
    if problems:
        return failed("; ".join(problems), **evidence)
    return passed(f"{len(users)} accounts, each with its own UID; only root has UID 0", **evidence)


def screen_lock(ctx: ProbeContext) -> Finding:
    limit = (ctx.params.max_minutes or 15) * 60
    lock = desktop.read_screen_lock(ctx.target.root)
    evidence = {
        "idle_delay_seconds": lock.idle_delay_seconds,
        "lock_enabled": lock.lock_enabled,
        "shell_tmout_seconds": lock.shell_tmout_seconds,
        "sources": list(lock.sources),
        "max_seconds": limit,
    }
    desktop_ok = (
        lock.lock_enabled is True
        and lock.idle_delay_seconds is not None
        and 0 < lock.idle_delay_seconds <= limit
    )
    shell_ok = lock.shell_tmout_seconds is not None and 0 < lock.shell_tmout_seconds <= limit
    if desktop_ok or shell_ok:
        how = "desktop idle lock" if desktop_ok else "shell TMOUT"
        return passed(f"{how} within {limit // 60} minutes", **evidence)
    if lock.idle_delay_seconds is None and lock.shell_tmout_seconds is None:
        return failed("no screen lock or session timeout is configured", **evidence)
    return failed(f"idle lock is off or longer than {limit // 60} minutes", **evidence)
