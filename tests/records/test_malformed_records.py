"""A malformed record is a StateError naming its kind and field, never a silent "unknown":
/metrics shows hostward_state_record_valid{kind} 0 and the status page says why."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.samples import Sample
from testkit import put_raw

from agent.exporter.families_faults import record_families
from agent.records.backup import BackupRecord
from agent.records.base import StateError
from agent.records.kinds import KINDS
from agent.state import State
from agent.web.section_backup import backup_section

FIXTURE = Path(__file__).parent / "fixtures" / "records-v1.json"
LEGACY: dict[str, Any] = json.loads(FIXTURE.read_text("utf-8"))

# (kind, path to the field, bad value, the field named in the error)
BROKEN = [
    ("backup", ("repositories", "primary", "last_success"), "yesterday", "repositories.primary.last_success"),
    ("backup", ("repositories", "primary", "check", "ok"), "yes", "repositories.primary.check.ok"),
    ("backup", ("offline",), [], "offline"),
    ("audit", ("summary",), None, "summary"),
    ("audit", ("results",), {"a": 1}, "results"),
    ("devices", ("outages", "totals", "switch-a"), "one", "outages.totals.switch-a"),
    ("devices", ("rounds",), 5, "rounds"),
    ("watchdog.jobs", ("audit", "strikes"), 1.5, "audit.strikes"),
    ("state.recovered", ("time",), None, "time"),
    ("inventory", ("taken",), "now", "taken"),
    ("host_health", ("taken",), None, "health"),
    ("host", ("cpu_count",), None, "snapshot"),
]


def _broken(kind: str, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    payload: dict[str, Any] = copy.deepcopy(LEGACY[kind]["payload"])
    node = payload
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return payload


@pytest.mark.parametrize(("kind", "path", "value", "field"), BROKEN, ids=[".".join(b[1]) for b in BROKEN])
def test_a_malformed_field_is_an_error_naming_the_kind_and_the_field(
    kind: str, path: tuple[str, ...], value: Any, field: str
) -> None:
    with pytest.raises(StateError) as caught:
        KINDS[kind].from_json(_broken(kind, path, value))
    assert f"state record {kind!r} is malformed: field {field!r}" in str(caught.value)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_record_from_a_newer_version_is_refused(kind: str) -> None:
    with pytest.raises(StateError, match=f"{kind}.*field 'version': version 99 is newer"):
        KINDS[kind].from_json({"version": 99})


def test_metrics_and_the_status_page_show_the_broken_record_and_why(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    put_raw(state, "backup", _broken("backup", ("repositories", "primary", "status"), 3))
    put_raw(state, "audit", LEGACY["audit"]["payload"])
    samples: list[Sample] = [s for f in record_families(state.snapshot()) for s in f.samples]
    assert {(s.labels["kind"], s.value) for s in samples} == {("backup", 0.0), ("audit", 1.0)}
    with pytest.raises(StateError, match=r"repositories\.primary\.status"):
        state.record(BackupRecord)
    html = backup_section(state.snapshot(), "en")
    assert "The backup record is unreadable" in html and "repositories.primary.status" in html
    state.close()


def test_a_record_cannot_be_stored_under_another_types_kind(tmp_path: Path) -> None:
    state = State.open(tmp_path)

    class Fake(BackupRecord):
        pass

    with pytest.raises(StateError, match="belongs to BackupRecord"):
        state.put_record(Fake())
    assert state.record(BackupRecord) is None
    state.close()


def test_an_update_onto_a_malformed_record_keeps_it_aside_and_starts_afresh(tmp_path: Path) -> None:
    from agent.records.backup_updates import PruneUpdate
    from backup.results import PruneResult

    state = State.open(tmp_path)
    broken = _broken("backup", ("repositories", "primary", "check", "ok"), "yes")
    put_raw(state, "backup", broken)
    state.put_record(PruneUpdate((PruneResult("primary", "ok", removed=2),), 5.0))
    stored = state.record(BackupRecord)
    assert stored is not None and stored.record.repositories["primary"].prune is not None
    assert stored.record.repositories["primary"].check is None
    aside = state.get("record.malformed.backup")
    assert json.loads(aside["payload"]) == broken and "repositories.primary.check.ok" in aside["error"]
    state.close()


def test_a_record_whose_text_is_not_json_is_an_error_naming_the_kind(tmp_path: Path) -> None:
    """The snapshot keeps each record's JSON text and decodes it only into the typed record;
    text that is not JSON is a StateError for that kind at that point, and the other kinds read."""
    state = State.open(tmp_path)
    put_raw(state, "audit", LEGACY["audit"]["payload"])
    db = sqlite3.connect(state.path)  # a payload damaged on disk: no writer of the agent stores one
    with db:
        db.execute("INSERT INTO records VALUES ('backup', 1.0, ?)", ('{"repositories": {',))
    db.close()
    snapshot = state.snapshot()
    with pytest.raises(StateError, match="state record 'backup' is not JSON"):
        snapshot.get(BackupRecord)
    samples = [s for f in record_families(snapshot) for s in f.samples]
    assert {(s.labels["kind"], s.value) for s in samples} == {("backup", 0.0), ("audit", 1.0)}
    state.close()
