"""/metrics for access logs: failed logins by source with no user-name label, every event kind,
the last run and a source's error, read from the stored record."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from agent.actions.access_log import add_totals
from agent.exporter.families_access import access_families
from agent.records.access import AccessLogUpdate, AccessSource
from agent.state import State
from collectors.access import AccessEvent


class _Snap(Collector):
    def __init__(self, state: State) -> None:
        self.state = state

    def collect(self):  # type: ignore[no-untyped-def]
        return access_families(self.state.snapshot())


def test_failed_logins_are_counted_by_source_and_no_user_name_becomes_a_label(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    events = [AccessEvent(1.0, "failed_login", f"guess{i}", "btmp") for i in range(50)]
    events.append(AccessEvent(2.0, "login", "alice", "wtmp"))
    add_totals(state, events)
    sources = {"btmp": AccessSource("ok"), "auth.log": AccessSource("error", "permission denied")}
    state.put_record(AccessLogUpdate(sources=sources, run_at=100.0, success=True))
    registry = CollectorRegistry()
    registry.register(_Snap(state))
    text = generate_latest(registry).decode()
    assert 'hostward_access_failed_logins_total{source="btmp"} 50.0' in text
    assert 'hostward_access_failed_logins_total{source="auth.log"} 0.0' in text
    assert 'hostward_access_events_total{kind="login"} 1.0' in text
    assert 'hostward_access_source_error{source="auth.log"} 1.0' in text
    assert "hostward_access_last_success_timestamp_seconds 100.0" in text
    assert "guess" not in text and "alice" not in text


def test_no_record_yet_gives_no_access_families(tmp_path: Path) -> None:
    assert list(access_families(State.open(tmp_path).snapshot())) == []
