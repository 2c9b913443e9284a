"""What every backup command and job starts from: the plan (`plan_for`) and the journal entry
(`journal`). Kept apart from agent/actions/backup.py so that `hostward backup restore` and the
browse commands load neither the backup jobs nor the state's record types: a restore after a
failure starts at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.access import archive_dir
from agent.config.schema import Config
from backup.plan import Plan, build_plan
from common.errors import HostwardError

if TYPE_CHECKING:
    from agent.state import State

log = logging.getLogger(__name__)


def plan_for(
    config: Config, state_dir: Path, require_sources: bool = True, state: State | None = None
) -> Plan:
    """The backup plan of `config`; restic's cache defaults to <state_dir>/restic-cache. The
    state directory and the last offline media (from `state`) are kept out of every backup,
    except the access-log archive (ROOM-6: access logs are backed up), which is added to the
    sources: then each entry of the state directory but the archive is excluded instead of the
    directory (restic would exclude the archive with its parent)."""
    archive = archive_dir(state_dir)
    keep = archive.is_dir()
    protect = [str(state_dir)]
    if keep:  # every entry but the archive
        protect = [str(p) for p in sorted(Path(state_dir).iterdir()) if p != archive]
    stored = None
    if state is not None:
        from agent.records.backup import BackupRecord

        stored = state.record(BackupRecord)
    if stored is not None and stored.record.offline is not None and stored.record.offline.path:
        protect.append(stored.record.offline.path)
    plan = build_plan(config.backup, str(state_dir / "restic-cache"), require_sources, protect)
    if keep and plan.sources and str(archive) not in plan.sources:
        plan = replace(plan, sources=(*plan.sources, str(archive)))
    return plan


def journal(state_dir: Path, kind: str, data: Mapping[str, Any]) -> None:
    """Append to the journal; a failure is logged, never raised."""
    try:
        from agent.journal import Journal

        Journal(state_dir).append(kind, data)
    except (HostwardError, OSError) as exc:
        log.error("journal: cannot record %s: %s", kind, exc)
