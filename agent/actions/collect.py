"""The `collect` job: read host health and store it as the State record kind "host"."""

from __future__ import annotations

from agent.actions.base import JobContext, JobOutcome
from agent.config.schema import CollectConfig
from agent.records.host import HostRecord
from agent.state import State
from collectors.host import HostSnapshot, collect_host

RECORD_KIND = HostRecord.KIND


def snapshot_host(config: CollectConfig) -> HostSnapshot:
    """One host snapshot with the configured exclusions (shared by the job and the CLI)."""
    return collect_host(
        temperatures=config.temperatures,
        fs_types_exclude=config.filesystem_types_exclude,
        mountpoints_exclude=config.mountpoints_exclude,
    )


def record_host(config: CollectConfig, state: State | None) -> HostSnapshot:
    """One snapshot, stored as the "host" record (the job and `hostward collect`; None: a user
    who cannot open the state, nothing stored). A whole record with one writer at a time that
    only replaces it: put_record, no update needed."""
    snap = snapshot_host(config)
    if state is not None:
        state.put_record(HostRecord(snap), taken=snap.taken)
    return snap


# Parts a normal user often cannot read (another user's FUSE mount, hwmon): logged and shown
# on the status page and in hostward_host_collect_errors, but they do not make the run partial.
_MINOR_PARTS = ("filesystem:", "temperatures", "fans", "users")


def collect_job(ctx: JobContext) -> JobOutcome:
    """Collect and store. A core part that could not be read (CPU, memory, ...) makes the run
    partial, not failed: the rest of the host is still reported."""
    snap = record_host(ctx.config.collect, ctx.state)
    if not snap.errors:
        return JobOutcome(success=True)
    parts = ", ".join(sorted(snap.errors))
    ctx.log.warning("host collect: could not read %s", parts)
    major = [p for p in snap.errors if not p.startswith(_MINOR_PARTS)]
    if major:
        return JobOutcome(success=True, error=f"could not read: {', '.join(sorted(major))}", partial=True)
    return JobOutcome(success=True)
