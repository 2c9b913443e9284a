"""The set-asides: who was stopped at a limit, how often in a row, and until when it waits.

One `SetAsides` per kind ("job", "check"), each with a single writer (the scheduler; the audit
job). It reads its record once, keeps it in memory, and stores it again on every change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Literal

from agent.config.limits import LimitsConfig
from agent.records.watchdog import SetAside, WatchdogChecksRecord, WatchdogJobsRecord
from agent.state import State
from agent.timing import Clocks
from common.errors import HostwardError
from common.schema.fields import format_duration
from policies.result import CheckResult, Stopped

log = logging.getLogger(__name__)

What = Literal["job", "check"]
RECORDS: dict[What, type[WatchdogJobsRecord] | type[WatchdogChecksRecord]] = {
    "job": WatchdogJobsRecord, "check": WatchdogChecksRecord,
}  # fmt: skip
# Why a check was set aside, from the engine's typed mark (policies.result.Stopped).
CHECK_STOPS: dict[Stopped, str] = {
    "timeout": "hung past the audit's time limit",
    "memory": "ran out of its memory cap",
}


def cooldown_for(limits: LimitsConfig, strikes: int) -> float:
    """Seconds set aside after the `strikes`-th stop in a row (1, 2, ...): `limits.cooldown`,
    doubled with each further stop, never more than `limits.cooldown_max`."""
    doubled = float(limits.cooldown) * 2 ** max(0, min(strikes, 32) - 1)
    return float(min(float(limits.cooldown_max), doubled))


def load(state: State, what: What) -> dict[str, SetAside]:
    """The stored set-asides of `what`; {} when unreadable (logged: the watchdog then starts
    over, it never stops the agent)."""
    try:
        stored = state.record(RECORDS[what])
    except HostwardError as exc:
        log.error("cannot read the watchdog's %s set-asides: %s", what, exc)
        return {}
    return dict(stored.record.entries) if stored is not None else {}


def save(state: State, what: What, entries: Mapping[str, SetAside]) -> None:
    """Store the set-asides of `what`; a failure is logged (the cool-down still holds in memory)."""
    try:
        state.put_record(RECORDS[what](dict(entries)))
    except HostwardError as exc:
        log.error("cannot store the watchdog's %s set-asides: %s", what, exc)


class SetAsides:
    """The jobs or the checks set aside, asked by their one writer:

    - `remaining(name)`: seconds `name` still waits (0: not set aside);
    - `stopped(name, reason)`: it was stopped at its limit: one more strike, a cool-down;
    - `succeeded(name)`: it ran without being stopped: cleared, its strikes start over;
    - `reasons()`: {name: why} for those still waiting (the audit's `set_aside=`).

    A cool-down runs on the monotonic clock (a wall-clock jump neither ends nor stretches it);
    the record keeps its end in wall time for people, metrics and the next start, which never
    takes it as further away than `cooldown_max` (a clock set back after it was stamped).
    """

    def __init__(self, state: State, what: What, limits: LimitsConfig, clocks: Clocks | None = None) -> None:
        self.what = what
        self.limits = limits  # the scheduler hands in the new ones on a reload
        self._state = state
        self._clocks = clocks or Clocks()
        self._lock = threading.Lock()
        self._entries = load(state, what)
        self._ends: dict[str, float] = {}  # name -> monotonic end of its cool-down
        now_mono, now_wall = self._clocks.monotonic(), self._clocks.wall()
        clamped = False
        for name, entry in list(self._entries.items()):
            left = max(0.0, min(entry.until - now_wall, float(limits.cooldown_max)))
            if entry.until - now_wall > float(limits.cooldown_max):
                self._entries[name] = SetAside(now_wall + left, entry.strikes, entry.reason)
                log.warning("watchdog: %s %s was set aside until beyond cooldown_max (clock set back); "
                            "brought back to %s", what, name, _clock_time(now_wall + left))
                clamped = True
            self._ends[name] = now_mono + left
        if clamped:
            save(state, what, self._entries)

    def remaining(self, name: str) -> float:
        with self._lock:
            end = self._ends.get(name)
        return 0.0 if end is None else max(0.0, end - self._clocks.monotonic())

    def reasons(self) -> dict[str, str]:
        now_wall = self._clocks.wall()
        out = {}
        with self._lock:
            entries = dict(self._entries)
        for name, entry in entries.items():
            left = self.remaining(name)
            if left > 0:
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now_wall + left))
                out[name] = f"{entry.reason} ({entry.strikes} in a row); next try after {when}"
        return out

    def stopped(self, name: str, reason: str) -> SetAside:
        with self._lock:
            now_mono, now_wall = self._clocks.monotonic(), self._clocks.wall()
            previous = self._entries.get(name)
            strikes = (previous.strikes if previous is not None else 0) + 1
            wait = cooldown_for(self.limits, strikes)
            entry = self._entries[name] = SetAside(now_wall + wait, strikes, reason)
            self._ends[name] = now_mono + wait
            save(self._state, self.what, self._entries)
        log.warning("watchdog: %s %s stopped (%s, %d in a row); set aside for %s",
                    self.what, name, reason, strikes, format_duration(round(wait)))  # fmt: skip
        return entry

    def succeeded(self, name: str) -> None:
        with self._lock:
            if self._entries.pop(name, None) is None:
                return
            self._ends.pop(name, None)
            save(self._state, self.what, self._entries)
        log.info("watchdog: %s %s ran without being stopped; no longer set aside", self.what, name)


def note_audit(checks: SetAsides, results: Iterable[CheckResult]) -> None:
    """After an audit: a check stopped at a limit gets a strike; one that ran to its end
    (pass, fail or error) is cleared; one not run because it was set aside stays as it is."""
    for result in results:
        if result.stopped in CHECK_STOPS:
            checks.stopped(result.check, CHECK_STOPS[result.stopped])
        elif result.stopped == "":
            checks.succeeded(result.check)


def _clock_time(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(wall))
