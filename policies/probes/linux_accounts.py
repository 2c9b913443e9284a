"""Linux probes for passwords, accounts and the screen lock (PWD-1/2, ACC-1/2, LOCK-1)."""

from __future__ import annotations

from collections import defaultdict

from collectors.system.linux import accounts, desktop
from policies.context import ProbeContext
from policies.result import Finding, Msg, errored, failed, joined, msg, not_applicable, passed


def _today(ctx: ProbeContext) -> int:
    return int(ctx.now.timestamp() // 86400)


def _passwd(ctx: ProbeContext) -> accounts.Parsed[list[accounts.PasswdEntry]]:
    return ctx.read("passwd", lambda: accounts.read_passwd(ctx.target.root))


def _shadow(ctx: ProbeContext) -> accounts.Parsed[dict[str, accounts.ShadowEntry]]:
    return ctx.read("shadow", lambda: accounts.read_shadow(ctx.target.root))


def _people(ctx: ProbeContext) -> list[tuple[accounts.PasswdEntry, accounts.ShadowEntry | None]]:
    """Interactive accounts (a login shell; root or UID >= min_uid) with their shadow entries."""
    users, shadow = _passwd(ctx).records, _shadow(ctx).records
    min_uid = ctx.params.min_uid if ctx.params.min_uid is not None else 1000
    return [(u, shadow.get(u.name)) for u in users if u.interactive and (u.uid == 0 or u.uid >= min_uid)]


def _unparsed(ctx: ProbeContext, *extra: accounts.Parsed[object]) -> dict[str, object]:
    """Evidence of the lines the account readers skipped (none: no key)."""
    found = accounts.unparsed_evidence(_passwd(ctx), _shadow(ctx), *extra)
    return {"unparsed_lines": found} if found else {}


def password_max_age(ctx: ProbeContext) -> Finding:
    max_age = ctx.params.max_age_days or 90
    max_policy = ctx.params.max_policy_days or 90
    defs_file = ctx.read("login.defs", lambda: accounts.read_login_defs(ctx.target.root))
    defs = defs_file.records
    policy_text = defs.get("PASS_MAX_DAYS")
    policy = int(policy_text) if policy_text and policy_text.isdigit() else None
    today = _today(ctx)
    problems: list[Msg] = []
    judged: dict[str, dict[str, object]] = {}
    skipped: list[str] = []
    for user, entry in _people(ctx):
        if entry is None or entry.hash_state != "set":
            skipped.append(user.name)  # cannot log in by password: its age means nothing
            continue
        age = None if not entry.last_change else today - entry.last_change
        judged[user.name] = {"uid": user.uid, "password_age_days": age, "max_days": entry.max_days}
        if entry.max_days is None or entry.max_days > max_policy:
            problems.append(
                msg(
                    f"{user.name}: maximum age {entry.max_days or 'unlimited'} > {max_policy}",
                    f"{user.name}：密码最长使用期 {entry.max_days or '不限'} > {max_policy}",
                )
            )
        if age is not None and age > max_age:
            problems.append(
                msg(
                    f"{user.name}: password is {age} days old (limit {max_age})",
                    f"{user.name}：密码已使用 {age} 天（上限 {max_age} 天）",
                )
            )
    if policy is None or policy > max_policy:
        problems.append(
            msg(
                f"login.defs PASS_MAX_DAYS is {policy_text or 'unset'} (limit {max_policy})",
                f"login.defs 的 PASS_MAX_DAYS 为 {policy_text or '未设置'}（上限 {max_policy}）",
            )
        )
    evidence = {
        "accounts": judged,
        "not_judged_no_password_login": skipped,
        "login_defs_pass_max_days": policy_text,
        "max_age_days": max_age,
        "max_policy_days": max_policy,
        "files": ["/etc/shadow", "/etc/login.defs"],
        **_unparsed(ctx, defs_file),
    }
    if problems:
        return failed(joined(problems), **evidence)
    return passed(
        msg(
            f"{len(judged)} password account(s) within {max_age} days and policy ≤ {max_policy}",
            f"{len(judged)} 个密码账户均在 {max_age} 天内，策略 ≤ {max_policy} 天",
        ),
        **evidence,
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
        **_unparsed(ctx),
    }
    if empty:
        names = ", ".join(empty)
        return failed(msg(f"empty password: {names}", f"空密码：{names}"), **evidence)
    if missing:
        names = ", ".join(missing)
        return errored(
            msg(f"no /etc/shadow entry for {names}", f"/etc/shadow 中没有 {names} 的条目"), **evidence
        )
    return passed(
        msg(
            "every interactive account needs a password or key to log in", "每个交互账户登录都需要密码或密钥"
        ),
        **evidence,
    )


def leavers_disabled(ctx: ProbeContext) -> Finding:
    if ctx.inputs.leavers_error:
        error = ctx.inputs.leavers_error
        return errored(msg(f"leavers list unreadable: {error}", f"离职人员名单无法读取：{error}"))
    leavers = ctx.inputs.leavers
    if leavers is None:
        return not_applicable(
            msg("no leavers list configured (audit.leavers_file)", "未配置离职人员名单（audit.leavers_file）")
        )
    users = {u.name: u for u in _passwd(ctx).records}
    shadow = _shadow(ctx).records
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
        **_unparsed(ctx),
    }
    if enabled:
        names = ", ".join(str(e["account"]) for e in enabled)
        return failed(
            msg(f"leavers' accounts still enabled: {names}", f"离职人员账户仍启用：{names}"), **evidence
        )
    torn = _passwd(ctx).unparsed
    if absent and torn:  # "removed" may only mean "on a line that does not parse"
        names, lines = ", ".join(absent), ", ".join(map(str, torn))
        return errored(
            msg(
                f"cannot tell whether {names} was removed: unparsable /etc/passwd line(s) {lines}",
                f"无法确定 {names} 是否已删除：/etc/passwd 第 {lines} 行无法解析",
            ),
            **evidence,
        )
    return passed(
        msg(
            f"{len(leavers)} leaver(s): none has an enabled account",
            f"{len(leavers)} 名离职人员：账户均已停用",
        ),
        **evidence,
    )


def no_shared_accounts(ctx: ProbeContext) -> Finding:
    passwd = _passwd(ctx)
    users = passwd.records
    by_uid: dict[int, list[str]] = defaultdict(list)
    for u in users:
        by_uid[u.uid].append(u.name)
    extra_root = [n for n in by_uid.get(0, []) if n != "root"]
    shared = {str(uid): names for uid, names in by_uid.items() if len(names) > 1 and uid != 0}
    evidence: dict[str, object] = {"extra_uid0": extra_root, "duplicate_uids": shared, "file": "/etc/passwd"}
    found = accounts.unparsed_evidence(passwd)
    if found:
        evidence["unparsed_lines"] = found
    problems = []
    if extra_root:
        extra = ", ".join(extra_root)
        problems.append(msg(f"UID 0 besides root: {extra}", f"root 之外的 UID 0 账户：{extra}"))
    for uid, names in shared.items():
        listed = ", ".join(names)
        problems.append(msg(f"UID {uid} shared by {listed}", f"UID {uid} 被多个账户共用：{listed}"))
    if problems:
        return failed(joined(problems), **evidence)
    return passed(
        msg(
            f"{len(users)} accounts, each with its own UID; only root has UID 0",
            f"{len(users)} 个账户各有独立 UID；只有 root 的 UID 为 0",
        ),
        **evidence,
    )


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
        how = msg("desktop idle lock", "桌面空闲锁屏") if desktop_ok else msg("shell TMOUT", "shell TMOUT")
        minutes = limit // 60
        return passed(msg(f"{how.en} within {minutes} minutes", f"{how.zh}在 {minutes} 分钟内"), **evidence)
    if lock.idle_delay_seconds is None and lock.shell_tmout_seconds is None:
        return failed(
            msg("no screen lock or session timeout is configured", "未配置锁屏或会话超时"), **evidence
        )
    return failed(
        msg(
            f"idle lock is off or longer than {limit // 60} minutes",
            f"空闲锁屏未开启或超过 {limit // 60} 分钟",
        ),
        **evidence,
    )
