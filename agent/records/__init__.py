"""Typed, versioned state records: one frozen dataclass per kind (agent/records/*.py).

`KINDS` maps each stored kind to its type; State decodes a stored payload with the type's
`from_json` (a malformed payload raises StateError naming the kind and the field)."""

from __future__ import annotations

from agent.records.access import AccessLogRecord
from agent.records.audit import AuditRecord
from agent.records.backup import BackupRecord
from agent.records.base import RecordUpdate, StateError, StateRecord
from agent.records.devices import DeviceConfigsRecord, DevicesRecord
from agent.records.drill_full import FullDrillRecord
from agent.records.events import DeviceEvents
from agent.records.host import HostHealthRecord, HostRecord
from agent.records.inventory import InventoryRecord
from agent.records.watchdog import StateRecoveredRecord, WatchdogChecksRecord, WatchdogJobsRecord

RECORD_TYPES: tuple[type[StateRecord], ...] = (
    HostRecord, HostHealthRecord, AuditRecord, BackupRecord, DevicesRecord, DeviceConfigsRecord,
    InventoryRecord, WatchdogJobsRecord, WatchdogChecksRecord, StateRecoveredRecord, AccessLogRecord,
    DeviceEvents, FullDrillRecord,
)  # fmt: skip
KINDS: dict[str, type[StateRecord]] = {t.KIND: t for t in RECORD_TYPES}

__all__ = [
    "KINDS", "RECORD_TYPES", "AccessLogRecord", "AuditRecord", "BackupRecord", "DeviceConfigsRecord",
    "DeviceEvents", "DevicesRecord", "FullDrillRecord",
    "HostHealthRecord", "HostRecord", "InventoryRecord", "RecordUpdate", "StateError", "StateRecord",
    "StateRecoveredRecord", "WatchdogChecksRecord", "WatchdogJobsRecord",
]  # fmt: skip
