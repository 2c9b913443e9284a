"""A new snapshot (after any write) keeps the decoded typed record of every kind whose stored
text did not change, and decodes anew the one that did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from testkit import put_raw

from agent.records.audit import AuditRecord
from agent.records.backup import BackupRecord
from agent.state import State

FIXTURE = Path(__file__).parent / "fixtures" / "records-v1.json"
LEGACY: dict[str, Any] = json.loads(FIXTURE.read_text("utf-8"))


def test_an_unchanged_record_is_not_decoded_again_and_a_changed_one_is(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    put_raw(state, "audit", LEGACY["audit"]["payload"], taken=1.0)
    put_raw(state, "backup", LEGACY["backup"]["payload"], taken=1.0)
    first = state.snapshot()
    audit, backup = first.get(AuditRecord), first.get(BackupRecord)
    state.record_run("collect", 2.0, 0.1, True)  # a job's run: a new snapshot
    second = state.snapshot()
    assert second.version > first.version
    assert second.get(AuditRecord) is audit and second.get(BackupRecord) is backup
    changed = dict(LEGACY["audit"]["payload"], summary={"pass": 1, "fail": 0, "error": 0})
    put_raw(state, "audit", changed, taken=1.0)  # same time, other text: decoded anew
    third = state.snapshot()
    fresh = third.get(AuditRecord)
    assert fresh is not None and fresh is not audit and third.get(BackupRecord) is backup
    assert fresh.record.summary != audit.record.summary  # type: ignore[union-attr]
    state.close()
