"""The registry of scheduled jobs: what runs, and which config schedule says when.

A job's action is named by its import path ("agent.actions.audit:audit_job"): it runs in a
worker process (agent.workers), which imports the action module; the daemon never does, so
an office PC's daemon holds none of them. A job given as a callable runs in the daemon's own
thread: only `collect` (it feeds the exporter from memory every few seconds), and jobs a test
injects. Schedules come from agent.job_schedules, which imports no action module.

`run_cmd` reads `JOBS` when it runs, so a test may replace `agent.jobs.JOBS` before calling
`agent.cli.main` (dependency injection, no test-only code path).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from agent import job_schedules as when
from agent.actions.base import JobAction
from agent.actions.collect import collect_job
from agent.config.schema import Config
from agent.scheduler import ScheduledJob
from common.frozen import frozen
from common.schema.common import Schedule


@frozen
class JobSpec:
    """A named job: `schedule(config)` gives its schedule, or None when not configured.
    `action`: "module:function" (a worker process) or a callable (the daemon's thread).
    `backup_sized`: the worker gets `limits.backup_worker_memory_max_bytes`, not the default cap."""

    name: str
    schedule: Callable[[Config], Schedule | None]
    action: JobAction | str
    backup_sized: bool = False


JOBS: tuple[JobSpec, ...] = (
    JobSpec("collect", lambda c: c.collect.schedule, collect_job),
    JobSpec("host_health", lambda c: c.collect.health_schedule, "agent.actions.host_health:host_health_job"),
    JobSpec("devices", lambda c: c.devices_schedule.poll, "agent.actions.devices:devices_job"),
    JobSpec("devices_power", when.power_schedule, "agent.actions.devices:devices_power_job"),
    JobSpec("device_configs", when.config_backup_schedule, "agent.actions.device_configs:config_backup_job"),
    JobSpec("audit", lambda c: c.audit.schedule, "agent.actions.audit:audit_job"),
    JobSpec("backup", when.backup_schedule, "agent.actions.backup:backup_job", backup_sized=True),
    JobSpec("backup_verify", when.verify_schedule, "agent.actions.backup:verify_job", backup_sized=True),
    JobSpec("backup_prune", when.prune_schedule, "agent.actions.backup:prune_job", backup_sized=True),
    JobSpec("backup_drill", when.drill_schedule, "agent.actions.backup:drill_job", backup_sized=True),
    JobSpec(
        "backup_drill_full", when.drill_full_schedule, "agent.actions.backup_drill_full:drill_full_job",
        backup_sized=True,
    ),
    JobSpec("report_daily", lambda c: c.report.daily.schedule, "agent.actions.report_daily:report_daily_job"),
    JobSpec("inventory", lambda c: c.inventory.schedule, "agent.actions.inventory:inventory_job"),
    JobSpec("usb_watch", lambda c: c.inventory.usb_watch, "agent.actions.usb_watch:usb_watch_job"),
    JobSpec("access_log", lambda c: c.access_log.schedule, "agent.actions.access_log:access_log_job"),
)


def scheduled(specs: Iterable[JobSpec], config: Config) -> list[ScheduledJob]:
    """The jobs that have an enabled schedule in `config`."""
    from agent.workers.runner import WorkerAction

    out = []
    for spec in specs:
        schedule = spec.schedule(config)
        if schedule is None or not schedule.enabled:
            continue
        if isinstance(spec.action, str):
            limits = config.limits
            cap = limits.worker_memory_max_bytes
            if spec.backup_sized:
                cap = limits.backup_worker_memory_max_bytes
            action = WorkerAction(spec.name, spec.action, cap)
            out.append(ScheduledJob(spec.name, schedule, action, in_worker=True))
        else:
            out.append(ScheduledJob(spec.name, schedule, spec.action))
    return out
