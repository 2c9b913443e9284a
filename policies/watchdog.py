"""The watchdog's part in the policy engine: it cuts and marks, it decides nothing.

Each probe gets its own `WatchedRunner`: every command it runs is cut at the audit's deadline
(not only at the command's own timeout) and runs under the runner's memory cap; a command
stopped at either limit is remembered, and an `error` finding from that probe says so: its
`stopped` is "timeout" or "memory" (typed, policies.result.Stopped). A probe still running at
the deadline is abandoned with `stopped="timeout"`. What follows from a stop (strikes, the
cool-down, the set-aside checks, which report `set_aside_finding` meanwhile without running) is
the agent's: agent/watchdog, which reads `stopped` only. `_marked` also repeats the mark as an
evidence line, for people reading the report; no code reads it back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from collectors.system.runner import DEFAULT_MAX_OUTPUT, CommandResult, LineCallback, Runner
from policies.result import STOPPED_EVIDENCE, Finding, Stopped, errored, msg

_MIN_TIMEOUT = 0.1
_MARGIN = 0.3  # a command is cut this long before the deadline, so its probe still reports it


class WatchedRunner:
    """A runner for one probe: commands end by the audit's `deadline` (monotonic); limit hits
    are noted in `hits`."""

    def __init__(self, runner: Runner, deadline: float) -> None:
        self.runner = runner
        self.deadline = deadline
        self.hits: list[Stopped] = []
        self._lock = threading.Lock()

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        cwd: str | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        on_stdout_line: LineCallback | None = None,
    ) -> CommandResult:
        left = max(_MIN_TIMEOUT, self.deadline - time.monotonic() - _MARGIN)
        result = self.runner.run(
            argv,
            timeout=min(timeout, left),
            env=env,
            stdin=stdin,
            cwd=cwd,
            max_output=max_output,
            on_stdout_line=on_stdout_line,
        )
        hit: Stopped = "timeout" if result.timed_out else "memory" if result.memory_exhausted else ""
        if hit:
            with self._lock:
                self.hits.append(hit)
        return result


def annotate(finding: Finding, runner: Runner) -> Finding:
    """An error finding from a probe whose command was stopped at a limit, marked as such."""
    if finding.status != "error" or not isinstance(runner, WatchedRunner) or not runner.hits:
        return finding
    return _marked(finding, runner.hits[0])


def timed_out(timeout: float) -> Finding:
    late = msg(f"did not finish within {timeout:g}s; abandoned", f"未在 {timeout:g} 秒内完成，已放弃")
    return _marked(errored(late), "timeout")


def set_aside_finding(reason: str) -> Finding:
    """The finding of a check set aside by the watchdog (not run this time)."""
    text = msg(f"set aside by the watchdog: {reason}", f"因资源超限暂停检查：{reason}")
    return _marked(errored(text), "set_aside")


def _marked(finding: Finding, stopped: Stopped) -> Finding:
    """The finding with the watchdog's mark: the typed field, and its evidence line for people."""
    return replace(finding, stopped=stopped, evidence={**finding.evidence, STOPPED_EVIDENCE: stopped})
