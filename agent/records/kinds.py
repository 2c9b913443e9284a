"""Every record type, by the kind it is stored under: State decodes a stored payload with the
type's `from_json`, and refuses to store a record under a kind that belongs to another type.

Importing this module imports every record type; code that needs one type imports its module
(agent/records/audit.py, ...) so that a command loads only what it reads."""

from __future__ import annotations

from agent.records.access import AccessLogRecord
from agent.records.audit import AuditRecord
from agent.records.backup import BackupRecord
from agent.records.base import StateRecord
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
