"""The audit's watchdog: a check that hangs or eats memory costs only itself.

Each probe gets its own `WatchedRunner`: every command it runs is cut at the audit's deadline
(not only at the command's own timeout) and runs under the runner's memory cap; a command
stopped at either limit is remembered, and an `error` finding from that probe says so: its
`stopped` is "timeout" or "memory" (typed, policies.result.Stopped; the evidence repeats it for
people). A probe still running at the deadline is abandoned with `stopped="timeout"`. The agent
(agent/watchdog.py) sets such checks aside for a cool-down: `set_aside_finding` is what they
report meanwhile, without running (`stopped="set_aside"`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from collectors.system.runner import DEFAULT_MAX_OUTPUT, CommandResult, LineCallback, Runner
from policies.result import Finding, Stopped, errored, msg

EVIDENCE_KEY = "watchdog"  # the evidence line people read; code reads Finding.stopped
_MIN_TIMEOUT = 0.1
_MARGIN = 0.3  # a command is cut this long before the deadline, so its probe still reports it


class WatchedRunner:
    """A runner for one probe: commands end by the audit's `deadline` (monotonic); limit hits
    are noted in `hits` ("timeout", "memory")."""

    def __init__(self, runner: Runner, deadline: float) -> None:
        self.runner = runner
        self.deadline = deadline
        self.hits: list[str] = []
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
        hit = "timeout" if result.timed_out else "memory" if result.memory_exhausted else ""
        if hit:
            with self._lock:
                self.hits.append(hit)
        return result


def annotate(finding: Finding, runner: Runner) -> Finding:
    """An error finding from a probe whose command was stopped at a limit, marked as such."""
    if finding.status != "error" or not isinstance(runner, WatchedRunner) or not runner.hits:
        return finding
    hit: Stopped = "memory" if runner.hits[0] == "memory" else "timeout"
    return replace(finding, stopped=hit, evidence={**finding.evidence, EVIDENCE_KEY: hit})


def timed_out(timeout: float) -> Finding:
    late = msg(f"did not finish within {timeout:g}s; abandoned", f"未在 {timeout:g} 秒内完成，已放弃")
    return replace(errored(late, **{EVIDENCE_KEY: "timeout"}), stopped="timeout")


def set_aside_finding(reason: str) -> Finding:
    """The finding of a check set aside by the watchdog (not run this time)."""
    text = msg(f"set aside by the watchdog: {reason}", f"因资源超限暂停检查：{reason}")
    return replace(errored(text, **{EVIDENCE_KEY: "set_aside"}), stopped="set_aside")
