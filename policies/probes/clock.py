"""Probes judged by the clock (LOCK-1: office PCs are shut down at the end of the day)."""

from __future__ import annotations

from datetime import datetime, time

from collectors.system.linux import kernel
from policies.context import ProbeContext
from policies.probes.common import epoch_to_iso
from policies.result import Finding, failed, msg, passed


def within(now: datetime, hours: str, days: tuple[int, ...]) -> bool:
    """Whether local time `now` falls in "HH:MM-HH:MM" on one of `days` (1 = Monday)."""
    start_text, end_text = hours.split("-")
    start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    return now.isoweekday() in days and start <= now.time() <= end


def after_hours_power(ctx: ProbeContext) -> Finding:
    """The audit runs on the live host, so the host is on: fail outside working hours."""
    hours = ctx.params.working_hours or "07:30-18:30"
    days = ctx.params.working_days or (1, 2, 3, 4, 5)
    local = ctx.now.astimezone()
    evidence: dict[str, object] = {
        "local_time": local.isoformat(timespec="minutes"),
        "working_hours": hours,
        "working_days": list(days),
    }
    if ctx.target.platform == "linux":
        boot = kernel.read_boot_time(ctx.target.root)
        evidence["boot_time"] = epoch_to_iso(boot) if boot is not None else None
    if within(local, hours, days):
        return passed(msg(f"on during working hours ({hours})", f"工作时间内开机（{hours}）"), **evidence)
    return failed(
        msg(
            f"powered on at {local:%a %H:%M}, outside working hours {hours}",
            f"在 {local:%m-%d %H:%M}（星期{'一二三四五六日'[local.weekday()]}）开机，不在工作时间 {hours} 内",
        ),
        **evidence,
    )
