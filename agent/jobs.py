"""The registry of scheduled jobs: what runs, and which config schedule says when.

Later issues add their job here, one line each (audit, backup, devices, drill). An action
module must import heavy libraries (paramiko, netmiko, pysnmp) inside the action, not at
module level: this file imports every action module, and an office PC never loads them.

`run_cmd` reads `JOBS` when it runs, so a test may replace `agent.jobs.JOBS` before calling
`agent.cli.main` (dependency injection, no test-only code path).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agent.actions.access_log import access_log_job
from agent.actions.audit import audit_job
from agent.actions.base import JobAction, JobContext, JobOutcome
from agent.actions.collect import collect_job
from agent.actions.device_configs import config_backup_job, config_backup_schedule
from agent.actions.devices import devices_job, devices_power_job, power_schedule
from agent.actions.host_health import host_health_job
from agent.actions.inventory import inventory_job
from agent.actions.report_daily import report_daily_job
from agent.actions.usb_watch import usb_watch_job
from agent.config.schema import Config
from agent.scheduler import ScheduledJob
from common.schema.common import Schedule


def _backup(attr: str) -> Callable[..., object]:
    """agent.actions.backup, imported on first use: it costs ~4.5 MiB resident (libcrypto for
    the drill's SHA-256, uuid, the restic wrapper), which a host without backups never pays."""

    def call(*args: object) -> object:
        return getattr(importlib.import_module("agent.actions.backup"), attr)(*args)

    return call


def _backup_configured(config: Config) -> bool:
    return bool(config.backup.repositories.primary or config.backup.repositories.secondary)


def _backup_schedule(attr: str) -> Callable[[Config], Schedule | None]:
    schedule = _backup(attr)

    def get(config: Config) -> Schedule | None:
        if not _backup_configured(config):  # no import at all on a host without backups
            return None
        found = schedule(config)
        assert found is None or isinstance(found, Schedule)
        return found

    return get


def _backup_action(attr: str) -> JobAction:
    action = _backup(attr)

    def run(ctx: JobContext) -> JobOutcome:
        outcome = action(ctx)
        assert isinstance(outcome, JobOutcome)
        return outcome

    return run


def _full_drill_schedule(config: Config) -> Schedule | None:
    if not _backup_configured(config):
        return None
    module = importlib.import_module("agent.actions.backup_drill_full")
    found = module.drill_full_schedule(config)
    assert found is None or isinstance(found, Schedule)
    return found


def _full_drill_action(ctx: JobContext) -> JobOutcome:
    outcome = importlib.import_module("agent.actions.backup_drill_full").drill_full_job(ctx)
    assert isinstance(outcome, JobOutcome)
    return outcome


@dataclass(frozen=True)
class JobSpec:
    """A named job: `schedule(config)` gives its schedule, or None when not configured."""

    name: str
    schedule: Callable[[Config], Schedule | None]
    action: JobAction


JOBS: tuple[JobSpec, ...] = (
    JobSpec("collect", lambda c: c.collect.schedule, collect_job),
    JobSpec("host_health", lambda c: c.collect.health_schedule, host_health_job),
    JobSpec("devices", lambda c: c.devices_schedule.poll, devices_job),
    JobSpec("devices_power", power_schedule, devices_power_job),
    JobSpec("device_configs", config_backup_schedule, config_backup_job),
    JobSpec("audit", lambda c: c.audit.schedule, audit_job),
    JobSpec("backup", _backup_schedule("backup_schedule"), _backup_action("backup_job")),
    JobSpec("backup_verify", _backup_schedule("verify_schedule"), _backup_action("verify_job")),
    JobSpec("backup_prune", _backup_schedule("prune_schedule"), _backup_action("prune_job")),
    JobSpec("backup_drill", _backup_schedule("drill_schedule"), _backup_action("drill_job")),
    JobSpec("backup_drill_full", _full_drill_schedule, _full_drill_action),
    JobSpec("report_daily", lambda c: c.report.daily.schedule, report_daily_job),
    JobSpec("inventory", lambda c: c.inventory.schedule, inventory_job),
    JobSpec("usb_watch", lambda c: c.inventory.usb_watch, usb_watch_job),
    JobSpec("access_log", lambda c: c.access_log.schedule, access_log_job),
)


def scheduled(specs: Iterable[JobSpec], config: Config) -> list[ScheduledJob]:
    """The jobs that have an enabled schedule in `config`."""
    out = []
    for spec in specs:
        schedule = spec.schedule(config)
        if schedule is not None and schedule.enabled:
            out.append(ScheduledJob(spec.name, schedule, spec.action))
    return out
