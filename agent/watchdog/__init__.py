"""The watchdog: work that hangs or eats memory costs only itself. Its rules, all here.

What is a stop
- a *job* run past its schedule's `timeout`: the scheduler records it failed at once; a job in
  a worker process has the worker killed, a hung Python thread is abandoned (its job stays
  blocked until the thread ends);
- a *check* whose probe ran a command that was cut at the audit's deadline (not only at the
  command's own timeout) or by its memory cap (`limits.check_memory_max_bytes`), or whose probe
  was still running at the deadline. The policy engine, a floor below that cannot import this
  package, only *marks* such a result: `CheckResult.stopped` is "timeout" or "memory"
  (policies/watchdog.py, `WatchedRunner`). Every decision here reads that typed field, never
  the evidence text.

What follows (`SetAsides`, book.py)
- the job or check is *set aside* for `limits.cooldown`, doubled with each further stop in a
  row, at most `limits.cooldown_max` (`cooldown_for`);
- a job's successful run, or a check that ran to its end (pass, fail or error), clears it;
- while set aside, a job due is skipped (logged "set aside by the watchdog"); a check is not run
  and reports `error` "set aside by the watchdog: ..." with `stopped="set_aside"`, which neither
  strikes nor clears;
- the set-asides are state records ("watchdog.jobs" written by the scheduler only,
  "watchdog.checks" by the audit job only), so they survive a restart;
- a cool-down runs on the monotonic clock; the record keeps its end in wall time, and an end
  further away than `cooldown_max` (the clock was set back) is brought back to it on reading.

Who asks what
- the scheduler: `SetAsides(state, "job", limits, clocks)`, then `remaining(job)` when it is
  due, `stopped(job, why)` at its timeout, `succeeded(job)` after a successful run;
- the audit job (agent/actions/audit.py): `SetAsides(state, "check", limits)`, `reasons()` for
  the engine's `set_aside=` (not run), then `note_audit(checks, results)`;
- /metrics (agent/exporter/families_watchdog.py) and the status page (agent/web/section_jobs.py):
  `stored(snapshot, what)` and `set_aside_until(snapshot, what, now)` (view.py);
- the daemon at start: `apply_own_limits` (caps.py: the agent's own address space and nice).
"""

from agent.records.watchdog import SetAside
from agent.watchdog.book import CHECK_STOPS, SetAsides, What, cooldown_for, load, note_audit, save
from agent.watchdog.caps import apply_own_limits
from agent.watchdog.view import set_aside_until, stored

__all__ = [
    "CHECK_STOPS",
    "SetAside",
    "SetAsides",
    "What",
    "apply_own_limits",
    "cooldown_for",
    "load",
    "note_audit",
    "save",
    "set_aside_until",
    "stored",
]
