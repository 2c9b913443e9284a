"""The watchdog's memory: what was stopped at its limit, and until when it is set aside.

A job run past its timeout, or a check whose probe hung or ran out of memory, is *stopped*
(the runner kills the command's process group; a hung Python thread is abandoned and its job
stays blocked) and *set aside* for a cool-down that doubles with each further stop in a row
(`limits.cooldown`, capped at `limits.cooldown_max`). A success clears it. The set-asides are
kept as two state records ("watchdog.jobs", "watchdog.checks": one writer each, the scheduler
and the audit job), so they survive a restart, show on /metrics and on the status page.

Times are wall-clock (Unix) for people and metrics; the scheduler turns them into monotonic
deadlines, and a remaining time is never taken as longer than `cooldown_max` (a clock set back
cannot set a job aside for days).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping

from agent.config.limits import LimitsConfig
from agent.records.watchdog import SetAside, WatchdogChecksRecord, WatchdogJobsRecord
from agent.state import State
from common.errors import HostwardError
from policies.result import CheckResult

if sys.platform != "win32":
    import resource

log = logging.getLogger(__name__)
JOBS_RECORD = WatchdogJobsRecord.KIND
CHECKS_RECORD = WatchdogChecksRecord.KIND
_TYPES: dict[str, type[WatchdogJobsRecord] | type[WatchdogChecksRecord]] = {
    JOBS_RECORD: WatchdogJobsRecord, CHECKS_RECORD: WatchdogChecksRecord,
}  # fmt: skip
__all__ = ["CHECKS_RECORD", "JOBS_RECORD", "SetAside"]


def load(state: State, kind: str) -> dict[str, SetAside]:
    """The set-asides stored under `kind` (JOBS_RECORD or CHECKS_RECORD); {} when unreadable
    (logged: the watchdog then starts over, it never stops the agent)."""
    try:
        stored = state.record(_TYPES[kind])
    except HostwardError as exc:
        log.error("cannot read the watchdog record %s: %s", kind, exc)
        return {}
    return dict(stored.record.entries) if stored is not None else {}


def save(state: State, kind: str, entries: Mapping[str, SetAside]) -> None:
    try:
        state.put_record(_TYPES[kind](dict(entries)))
    except HostwardError as exc:  # the cool-down still holds in memory
        log.error("cannot store the watchdog record %s: %s", kind, exc)


def strike(previous: SetAside | None, limits: LimitsConfig, now_wall: float, reason: str) -> SetAside:
    """The set-aside after one more stop at a limit."""
    strikes = (previous.strikes if previous is not None else 0) + 1
    return SetAside(now_wall + limits.cooldown_for(strikes), strikes, reason)


def remaining(entry: SetAside, limits: LimitsConfig, now_wall: float) -> float:
    """Seconds still set aside, never more than `cooldown_max` (the wall clock may have moved)."""
    return max(0.0, min(entry.until - now_wall, float(limits.cooldown_max)))


def clamp(entries: dict[str, SetAside], limits: LimitsConfig, now_wall: float) -> bool:
    """Bring set-asides ending further away than `cooldown_max` (the clock was set back after
    they were stamped) back to it, in place; True if one changed (then save it)."""
    changed = False
    for name, entry in list(entries.items()):
        if entry.until - now_wall > float(limits.cooldown_max):
            until = now_wall + remaining(entry, limits, now_wall)
            entries[name] = SetAside(until, entry.strikes, entry.reason)
            log.warning("watchdog: %s was set aside until a time beyond cooldown_max (clock set back); "
                        "brought back to %s", name, time.strftime("%H:%M:%S", time.localtime(until)))
            changed = True
    return changed


def apply_own_limits(limits: LimitsConfig) -> None:
    """Apply the agent's own caps to this process: RLIMIT_AS and nice (POSIX only).

    A cap the process may not set (above the hard limit) is logged, never fatal.
    """
    if sys.platform == "win32":  # pragma: no cover - the service wrapper sets them on Windows
        return
    if limits.memory_max_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = limits.memory_max_bytes
        soft = want if hard == resource.RLIM_INFINITY else min(hard, want)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
            log.info("address space capped at %d bytes (limits.memory_max_bytes)", soft)
        except (ValueError, OSError) as exc:
            log.warning("cannot cap the address space: %s", exc)
    if limits.nice:
        try:
            current = os.getpriority(os.PRIO_PROCESS, 0)
            if limits.nice > current:  # only ever lower our priority
                os.setpriority(os.PRIO_PROCESS, 0, limits.nice)
        except OSError as exc:
            log.warning("cannot set the CPU priority: %s", exc)


def checks_set_aside(state: State, limits: LimitsConfig, now_wall: float | None = None) -> dict[str, str]:
    """{check id: why} for the checks still set aside, for the engine (`run_audit(set_aside=)`).
    An end further away than `cooldown_max` (the clock was set back) is brought back to it."""
    now = time.time() if now_wall is None else now_wall
    out = {}
    aside = load(state, CHECKS_RECORD)
    clamped = clamp(aside, limits, now)
    for check, entry in aside.items():
        if entry.until > now:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.until))
            out[check] = f"{entry.reason} ({entry.strikes} in a row); next try after {when}"
    if clamped:
        save(state, CHECKS_RECORD, aside)
    return out


def note_checks(state: State, limits: LimitsConfig, results: Iterable[CheckResult]) -> None:
    """After an audit: a check stopped at a limit gets a strike, one that ran to its end is cleared."""
    now = time.time()
    aside = load(state, CHECKS_RECORD)
    changed = False
    for result in results:
        hit = result.stopped
        if hit in ("timeout", "memory"):
            why = "hung past the audit's time limit" if hit == "timeout" else "ran out of its memory cap"
            aside[result.check] = strike(aside.get(result.check), limits, now, why)
            until = time.strftime("%H:%M:%S", time.localtime(aside[result.check].until))
            log.warning("watchdog: check %s stopped (%s); set aside until %s", result.check, why, until)
            changed = True
        elif hit != "set_aside" and result.check in aside:
            del aside[result.check]
            changed = True
    if changed:
        save(state, CHECKS_RECORD, aside)
