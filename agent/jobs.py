"""The registry of scheduled jobs: what runs, and which config schedule says when.

Later issues add their job here, one line each (audit, backup, devices, drill). An action
module must import heavy libraries (paramiko, netmiko, pysnmp) inside the action, not at
module level: this file imports every action module, and an office PC never loads them.

`run_cmd` reads `JOBS` when it runs, so a test may replace `agent.jobs.JOBS` before calling
`agent.cli.main` (dependency injection, no test-only code path).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agent.actions import backup as bk
from agent.actions.audit import audit_job
from agent.actions.base import JobAction
from agent.actions.collect import collect_job
from agent.actions.device_configs import config_backup_job, config_backup_schedule
from agent.actions.devices import devices_job
from agent.config.schema import Config
from agent.scheduler import ScheduledJob
from collectors.schema.common import Schedule


@dataclass(frozen=True)
class JobSpec:
    """A named job: `schedule(config)` gives its schedule, or None when not configured."""

    name: str
    schedule: Callable[[Config], Schedule | None]
    action: JobAction


JOBS: tuple[JobSpec, ...] = (
    JobSpec("collect", lambda c: c.collect.schedule, collect_job),
    JobSpec("devices", lambda c: c.devices_schedule.poll, devices_job),
    JobSpec("device_configs", config_backup_schedule, config_backup_job),
    JobSpec("audit", lambda c: c.audit.schedule, audit_job),
    JobSpec("backup", bk.backup_schedule, bk.backup_job),
    JobSpec("backup_verify", bk.verify_schedule, bk.verify_job),
    JobSpec("backup_prune", bk.prune_schedule, bk.prune_job),
    JobSpec("backup_drill", bk.drill_schedule, bk.drill_job),
)


def scheduled(specs: Iterable[JobSpec], config: Config) -> list[ScheduledJob]:
    """The jobs that have an enabled schedule in `config`."""
    out = []
    for spec in specs:
        schedule = spec.schedule(config)
        if schedule is not None and schedule.enabled:
            out.append(ScheduledJob(spec.name, schedule, spec.action))
    return out
