"""The device_events record: round events (one each, or one for a mass outage), and a record
that cannot be read is a named error, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import put_raw

from agent.device_events import PER_ROUND, poll_events, read
from agent.records.base import StateError
from agent.records.events import DeviceEvents
from agent.state import State
from collectors.devices.outages import Changes, Outage


def down(n: int) -> Changes:
    return Changes(tuple(Outage(f"sw-{i}", 100.0, None, "no answer") for i in range(n)), ())


def test_a_few_devices_down_are_an_event_each_in_both_languages() -> None:
    events = poll_events(100.0, down(3), {"ups-1": "backup started"}, ["ups-2"])
    assert [e.text for e in events] == [
        "sw-0 down: no answer", "sw-1 down: no answer", "sw-2 down: no answer",
        "UPS ups-1 on battery; backup started", "UPS ups-2 back on mains",
    ]  # fmt: skip
    assert (
        events[3].said("zh") == "UPS ups-1 转电池供电；已开始备份" and events[3].said("en") == events[3].text
    )


def test_a_mass_outage_is_one_event_naming_the_first_devices() -> None:
    [event] = poll_events(100.0, down(PER_ROUND + 790), {}, [])
    assert event.text.startswith("800 devices down: sw-0, sw-1") and event.text.endswith("… (+790)")
    assert event.said("zh").startswith("800 台设备故障：")


def test_an_unreadable_record_is_a_named_error_and_the_page_reads_it_as_none(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="device_events"):
        DeviceEvents.from_json({"events": [{"at": "soon"}]})
    state = State.open(tmp_path)
    put_raw(state, "device_events", {"events": [{"at": "soon"}]})
    assert read(state) == DeviceEvents()
