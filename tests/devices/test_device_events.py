"""The device_events record: round events (one each, or one for a mass outage), and a record
that cannot be read is left out, not guessed."""

from __future__ import annotations

from agent.device_events import PER_ROUND, DeviceEvents, poll_events
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


def test_an_unreadable_record_reads_as_empty() -> None:
    assert DeviceEvents.from_json({"events": [{"at": "soon"}]}) == DeviceEvents()
    assert DeviceEvents.from_json(None).events == ()
