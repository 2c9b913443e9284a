"""The `host_health` job: SMART, failed systemd units and clock sync, stored as record "host_health".

A job of its own (collect.health_schedule), not the 15-second collect: smartctl reads each disk
and may take seconds. A part that could not be read makes the run partial; a part the host does
not provide (no smartctl, no systemd) is only reported as unavailable.
"""

from __future__ import annotations

from agent.actions.base import JobContext, JobOutcome
from agent.records.host import HostHealthRecord
from collectors.host_health import collect_host_health
from collectors.system.cancellable import CancellableRunner

RECORD_KIND = HostHealthRecord.KIND


def host_health_job(ctx: JobContext) -> JobOutcome:
    health = collect_host_health(CancellableRunner(ctx.cancel), smart=ctx.config.collect.smart)
    ctx.state.put_record(HostHealthRecord(health), taken=health.taken)
    if health.errors:
        parts = ", ".join(sorted(health.errors))
        ctx.log.warning("host health: could not read %s", parts)
        return JobOutcome(success=True, error=f"could not read: {parts}", partial=True)
    return JobOutcome(success=True)
