"""BAK-3 from the agent's own backup configuration: a retention weaker than "one snapshot per
year for good, every snapshot of the last five years" is a failure, not a silent setting."""

from __future__ import annotations

import re

from policies.context import ProbeContext
from policies.result import Finding, Msg, errored, failed, joined, msg, not_applicable, passed

# restic's duration units (`--keep-within 5y2m`): years, months, days, hours.
_UNIT_DAYS = {"y": 365.25, "m": 30.4375, "d": 1.0, "h": 1 / 24}
_DURATION = re.compile(r"^(?:\d+[ymdh])+$")
FIVE_YEARS_DAYS = 1825  # "5y", "60m" and "1825d" all keep five years
FOREVER_YEARS = 100  # a yearly snapshot kept for a century is kept for good


def duration_days(text: str) -> float | None:
    """Days in a restic duration such as "5y", "2y6m", "90d"; None if it is not one."""
    text = text.strip()
    if not _DURATION.match(text):
        return None
    return sum(int(n) * _UNIT_DAYS[u] for n, u in re.findall(r"(\d+)([ymdh])", text))


def backup_retention(ctx: ProbeContext) -> Finding:
    keep = ctx.inputs.backup_retention
    if keep is None:
        return not_applicable(msg("no backup configured on this host", "本机未配置备份"))
    within = str(keep.get("keep_within") or "")
    yearly = keep.get("keep_yearly") or 0
    if not isinstance(yearly, int):
        return errored(msg(f"keep_yearly {yearly!r} is not a number", f"keep_yearly {yearly!r} 不是数字"))
    days = duration_days(within) if within else 0.0
    if days is None:
        return errored(
            msg(
                f"keep_within {within!r} is not a restic duration", f"keep_within {within!r} 不是 restic 时长"
            )
        )
    evidence = {"keep_within": within, "keep_within_days": round(days, 1), "keep_yearly": yearly}
    problems: list[Msg] = []
    if days < FIVE_YEARS_DAYS:
        shown = within or "unset"
        problems.append(
            msg(
                f"keep_within is {shown}: changes are not all kept for 5 years",
                f"keep_within 为 {shown}：变更未保存满 5 年",
            )
        )
    if yearly < FOREVER_YEARS:
        problems.append(
            msg(
                f"keep_yearly is {yearly}: yearly backups are not kept for good",
                f"keep_yearly 为 {yearly}：年度备份未长期保存",
            )
        )
    if problems:
        return failed(joined(problems), **evidence)
    return passed(
        msg(
            f"every snapshot kept for {within}, one a year for {yearly} years",
            f"{within} 内每个快照均保留，年度快照保留 {yearly} 年",
        ),
        **evidence,
    )
