"""The agent's own caps, applied at start: its address space and its CPU priority."""

from __future__ import annotations

import logging
import os
import sys

from agent.config.limits import LimitsConfig

if sys.platform != "win32":
    import resource

log = logging.getLogger(__name__)


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
