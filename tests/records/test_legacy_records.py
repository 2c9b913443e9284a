"""Records written by the untyped state code (fixtures/records-v1.json, made by
make_legacy_fixture.py) load into the typed records, and every typed record survives a round
trip through JSON and through the state database."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from testkit import put_raw

from agent.records.backup import BackupRecord
from agent.records.devices import DevicesRecord
from agent.records.inventory import InventoryRecord
from agent.records.kinds import KINDS, RECORD_TYPES
from agent.state import State

FIXTURE = Path(__file__).parent / "fixtures" / "records-v1.json"
LEGACY: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
STORED = sorted(k for k in LEGACY if not k.startswith("_"))


def test_the_fixture_holds_every_kind_but_the_ssh_config_backups() -> None:
    # device_configs need a device over SSH; access_log, device_events and drill_full are new in this version
    assert set(STORED) == set(KINDS) - {"device_configs", "access_log", "device_events", "drill_full"}


@pytest.mark.parametrize("kind", STORED)
def test_a_record_written_by_the_previous_version_loads_and_round_trips(kind: str) -> None:
    payload = LEGACY[kind]["payload"]
    assert "version" not in payload or kind == "host"  # the old code stamped only the host's
    record = KINDS[kind].from_json(payload)
    again = type(record).from_json(json.loads(json.dumps(record.to_json())))
    assert again == record
    assert again.to_json()["version"] == type(record).VERSION
    assert pickle.loads(pickle.dumps(record)) == record  # noqa: S301 - a worker process can send it


def test_the_legacy_backup_record_keeps_every_figure_per_repository() -> None:
    record = BackupRecord.from_json(LEGACY["backup"]["payload"])
    primary = record.repositories["primary"]
    assert primary.status == "ok" and primary.snapshot_count == 1 and primary.files == 5
    assert primary.check is not None and primary.check.ok and primary.check.subset == "1/30"
    assert primary.drill is not None and primary.drill.ok and primary.drill.files == 5
    assert primary.prune is not None and primary.prune.status == "ok"
    assert record.offline is not None and record.offline.media_id == "M1"
    assert record.coverage is not None and record.coverage.gap == 0


def test_legacy_devices_and_inventory_keep_their_outages_and_sections() -> None:
    devices = DevicesRecord.from_json(LEGACY["devices"]["payload"])
    assert [d.name for d in devices.devices] == ["switch-a"] and not devices.devices[0].up
    assert [o.target for o in devices.outages.open] == ["switch-a"]
    assert devices.outages.totals == {"switch-a": 1.0}
    inventory = InventoryRecord.from_json(LEGACY["inventory"]["payload"])
    assert inventory.sections["system"].status == "error" and inventory.sections["system"].reason["en"]


def test_legacy_rows_in_a_state_database_read_as_typed_records(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    for kind in STORED:
        put_raw(state, kind, LEGACY[kind]["payload"], LEGACY[kind]["taken"])
    snapshot = state.snapshot()
    for record_type in RECORD_TYPES:
        stored = snapshot.get(record_type)
        if record_type.KIND in STORED:
            assert stored is not None and stored.taken == LEGACY[record_type.KIND]["taken"]
        else:
            assert stored is None
    state.close()
