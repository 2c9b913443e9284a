"""The `limits:` section: the agent's own caps and the watchdog's limits for jobs and checks.

The agent runs as root on every PC: a check that hangs or eats memory must cost only itself.
Commands a check runs get an address-space cap; a job or a check stopped at its limit is set
aside for a cool-down that doubles with each further stop (the rules: agent/watchdog). The
agent's own caps are applied at start (RLIMIT_AS, nice); the resident-memory and CPU-share caps
belong to the service manager (systemd `MemoryMax=`, `CPUQuota=` in
packaging/systemd/hostward.service).
"""

from __future__ import annotations

from common.frozen import frozen
from common.schema import Duration, setting
from common.schema.fields import at_least, between

MiB = 1024 * 1024


@frozen
class LimitsConfig:
    """The agent's own caps (memory, CPU priority), the memory caps of workers and checks, and how
    long the watchdog sets aside a job or check stopped at a limit."""

    memory_max_bytes: int = setting(
        0,
        "The agent's own address-space cap (RLIMIT_AS) in bytes; 0: none. Children inherit it\n"
        "unless they have their own. For a resident-memory cap use systemd MemoryMax=.",
        check=lambda v: None if v == 0 or v >= 256 * MiB else "must be 0 or at least 268435456 (256 MiB)",
    )
    nice: int = setting(
        0,
        "CPU priority of the agent: 0 normal .. 19 lowest (systemd CPUQuota= caps its share).",
        check=between(0, 19),
    )
    check_memory_max_bytes: int = setting(
        1024 * MiB,
        "Address-space cap of each command a compliance check runs; 0: none.",
        check=lambda v: None if v == 0 or v >= 16 * MiB else "must be 0 or at least 16777216 (16 MiB)",
    )
    worker_memory_max_bytes: int = setting(
        512 * MiB,
        "Memory cap of each job's worker process (every job but collect runs in one), in bytes;\n"
        "0: none. POSIX: its address space (RLIMIT_AS); Windows: its committed memory (a Job\n"
        "Object). A worker over it fails its job; the agent goes on.",
        check=lambda v: None if v == 0 or v >= 128 * MiB else "must be 0 or at least 134217728 (128 MiB)",
    )
    backup_worker_memory_max_bytes: int = setting(
        2048 * MiB,
        "The same cap for the backup jobs' workers (backup, verify, prune, drill); restic,\n"
        "which they start, inherits it.",
        check=lambda v: None if v == 0 or v >= 128 * MiB else "must be 0 or at least 134217728 (128 MiB)",
    )
    cooldown: Duration = setting(
        Duration(300),
        "A job or check stopped at its time or memory limit is set aside this long, doubling\n"
        "with each further stop in a row.",
        check=at_least(1),
    )
    cooldown_max: Duration = setting(Duration(6 * 3600), "The longest cool-down.", check=at_least(1))
