"""When each job runs, read from the config: small functions the daemon calls without importing
the jobs' action modules (those are imported only in the worker process that runs the job)."""

from __future__ import annotations

from agent.config.schema import Config
from collectors.devices.rounds import rounds
from common.schema.common import Schedule


def power_schedule(config: Config) -> Schedule | None:
    """The `devices_power` job's schedule: only when some UPS or room sensor is polled."""
    schedule = config.devices_schedule.power
    return schedule if rounds(config.devices, config.devices_schedule)["power"] else None


def config_backup_schedule(config: Config) -> Schedule | None:
    """The config-backup job's schedule, or None when no device has `ssh:`."""
    return config.devices_schedule.config_backup if any(d.ssh for d in config.devices) else None


def backup_configured(config: Config) -> bool:
    return bool(config.backup.repositories.primary or config.backup.repositories.secondary)


def backup_schedule(config: Config) -> Schedule | None:
    """The backup job's schedule, or None when backups are not configured."""
    b = config.backup
    return b.schedule if b.sources and backup_configured(config) else None


def verify_schedule(config: Config) -> Schedule | None:
    return config.backup.verify.schedule if backup_configured(config) else None


def prune_schedule(config: Config) -> Schedule | None:
    return config.backup.retention.schedule if backup_configured(config) else None


def drill_schedule(config: Config) -> Schedule | None:
    return config.backup.drill.schedule if backup_configured(config) else None


def drill_full_schedule(config: Config) -> Schedule | None:
    """The full disaster-recovery drill (off unless `backup.drill.full_schedule` enables it)."""
    return config.backup.drill.full_schedule if backup_configured(config) else None
