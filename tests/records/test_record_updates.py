"""Updates are what a worker process sends back to the daemon: picklable, and applied to the
record as stored (each writer changes only its own figures)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from agent.records.backup import BackupRecord
from agent.records.backup_updates import (
    BackupRunUpdate,
    DrillUpdate,
    OfflineUpdate,
    PruneUpdate,
    VerifyUpdate,
)
from agent.records.devices import DevicesRecord
from agent.records.devices_updates import DevicesRoundUpdate, Legacy
from agent.state import State
from backup.coverage import Coverage
from backup.model import CheckResult
from backup.outcome import RepoOutcome, RunResult
from backup.results import DrillResult, OfflineResult, PruneResult, VerifyResult
from collectors.devices.records import DeviceResult, UpsStatus

RUN = RunResult("20261205T000000Z-1", 100.0, 2.0, "partial", (
    RepoOutcome("primary", "ok", 100.0, 1.0),
    RepoOutcome("secondary", "failed", 101.0, 1.0, error="disk gone", error_kind="repository_missing"),
), coverage=Coverage(missing={"secondary": ("20261205T000000Z-1",)}))  # fmt: skip
UPDATES: list[Any] = [
    BackupRunUpdate(RUN, 86400.0, ("one copy on this disk",)),
    VerifyUpdate(VerifyResult((CheckResult("primary", False, "3/30", 1.0, ("pack damaged",)),), {}), 200.0),
    DrillUpdate(DrillResult("secondary", True, "abc", 300.0, 4.0, 5, 1000), "/state/drills/d.json"),
    PruneUpdate((PruneResult("primary", "skipped", error="last check failed"),), 400.0),
    OfflineUpdate(OfflineResult("M1", "/media/x", "primary", "abc", 500.0, 9.0, True), 86400.0),
]


@pytest.mark.parametrize("update", UPDATES, ids=lambda u: type(u).__name__)
def test_an_update_pickles_as_a_worker_would_send_it(update: Any) -> None:
    again = pickle.loads(pickle.dumps(update))  # noqa: S301 - our own object
    assert again == update and again.apply(None) == update.apply(None)


def test_each_writer_changes_only_its_own_figures(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    for update in UPDATES:
        state.put_record(update)
    stored = state.record(BackupRecord)
    assert stored is not None
    record = stored.record
    primary, secondary = record.repositories["primary"], record.repositories["secondary"]
    assert primary.status == "ok" and primary.last_attempt == 100.0 and primary.coverage_gap == 0
    assert secondary.status == "failed" and secondary.error_kind == "repository_missing"
    assert secondary.last_success is None and secondary.coverage_gap == 1
    assert primary.check is not None and not primary.check.ok and primary.check.problems == ("pack damaged",)
    assert secondary.drill is not None and secondary.drill.report == "/state/drills/d.json"
    assert primary.prune is not None and primary.prune.status == "skipped" and secondary.prune is None
    assert record.offline is not None and record.offline.path == "/media/x"
    assert record.coverage is not None and record.coverage.gap == 1
    assert record.warnings == ("one copy on this disk",)
    state.close()


def test_a_devices_round_keeps_the_other_rounds_devices_in_config_order(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    ups = DeviceResult("ups", "ups", "", True, "", 0.1)
    switch = DeviceResult("switch", "switch", "", False, "no answer", 1.0)
    state.put_record(DevicesRoundUpdate((switch,), ("ups", "switch"), "devices", 10.0, False))
    state.put_record(DevicesRoundUpdate((ups,), ("ups", "switch"), "devices_power", 20.0, False))
    stored = state.record(DevicesRecord)
    assert stored is not None
    assert [d.name for d in stored.record.devices] == ["ups", "switch"]
    assert stored.record.rounds == {"devices": 10.0, "devices_power": 20.0}
    assert [o.target for o in stored.record.outages.open] == ["switch"]
    state.put_record(DevicesRoundUpdate((ups,), ("ups",), "all", 30.0, True))  # switch removed
    stored = state.record(DevicesRecord)
    assert stored is not None and [d.name for d in stored.record.devices] == ["ups"]
    assert stored.record.rounds == {"all": 30.0}
    state.close()


def test_a_ups_an_older_version_flagged_on_battery_does_not_start_a_second_backup_after_the_upgrade() -> None:
    on_battery = UpsStatus(True, "battery", "low", None, None, None, None, None, (), (), ())
    ups = DeviceResult("ups", "ups", "", True, "", 0.1, ups=on_battery)
    upgraded = DevicesRoundUpdate((ups,), ("ups",), "devices_power", 10.0, False,
                                  legacy=Legacy(on_battery={"ups": True}))  # fmt: skip
    assert upgraded.outcome(None).went == ()
    fresh = DevicesRoundUpdate((ups,), ("ups",), "devices_power", 10.0, False)
    assert fresh.outcome(None).went == ("ups",)
    assert fresh.outcome(None).record.on_battery == {"ups": True}
    left = DevicesRoundUpdate((ups,), ("ups",), "cli", 10.0, False, battery=False)  # hostward devices poll
    assert left.outcome(None).went == ("ups",) and left.outcome(None).record.on_battery == {}
