"""The registry of metric-family builders.

A builder turns the latest stored state (`Snapshot`: job runs and records) into metric
families. It never collects: a scrape only reads what the jobs stored. Later issues add their
builders here, one line each (keep the modules they live in separate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import Metric

from agent.exporter.families_access import access_families
from agent.exporter.families_audit import audit_families
from agent.exporter.families_backup import backup_families
from agent.exporter.families_devices import device_families
from agent.exporter.families_faults import fault_families, future_families, record_families
from agent.exporter.families_health import health_families
from agent.exporter.families_host import host_families
from agent.exporter.families_inventory import inventory_families
from agent.exporter.families_jobs import build_info, job_families
from agent.exporter.families_traps import trap_families
from agent.exporter.families_watchdog import watchdog_families
from agent.state import Snapshot

FamilyBuilder = Callable[[Snapshot], Iterable[Metric]]

BUILDERS: tuple[FamilyBuilder, ...] = (
    build_info,
    job_families,
    host_families,
    health_families,
    device_families,
    trap_families,
    audit_families,
    backup_families,
    watchdog_families,
    inventory_families,
    access_families,
    fault_families,
    future_families,
    record_families,
)
