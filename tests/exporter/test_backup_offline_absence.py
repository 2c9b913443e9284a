"""The "offline copy never made" signal the central alert HostwardOfflineCopyNeverMade reads:
backup families exist, the offline copy's families do not until a copy is recorded."""

from __future__ import annotations

from testkit import put_json

from agent.exporter.families_backup import BACKUP_KIND, backup_families
from agent.state import State

OFFLINE = ("hostward_backup_offline_copy_timestamp_seconds", "hostward_backup_offline_copy_age_seconds")


def names(state: State) -> set[str]:
    return {family.name for family in backup_families(state.snapshot(), now=lambda: 2_000_000.0)}


def test_offline_families_are_absent_until_a_copy_is_recorded(state: State) -> None:
    repos = {"primary": {"last_attempt": 1_000_000.0, "status": "ok"}, "secondary": {"last_attempt": 1e6}}
    put_json(state, BACKUP_KIND, {"repositories": repos})
    never = names(state)
    assert "hostward_backup_last_attempt_timestamp_seconds" in never
    assert not never & set(OFFLINE)

    offline = {"time": 1_900_000.0, "media_id": "DISC-1"}
    put_json(state, BACKUP_KIND, {"repositories": repos, "offline": offline})
    assert set(OFFLINE) <= names(state)
