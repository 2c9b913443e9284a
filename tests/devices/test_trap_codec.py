"""Pure parts of the trap receiver: the source table's bounds, the token bucket, the time
window, and the decoder on arbitrary bytes (it drops, it never raises anything else)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.devices.trap_limits import MAX_ENGINES, SourceTable
from collectors.devices.traps import REASONS, TrapDropped, in_time_window, parse


def test_the_source_table_forgets_the_least_recent_source_past_its_size() -> None:
    table = SourceTable(rate=1.0, burst=2, max_sources=3)
    for n in range(10):
        table.admit(f"10.0.0.{n}", 0.0)
    assert len(table) == 3
    table.admit("10.0.0.7", 0.0)  # seen again: kept over the others
    table.admit("10.0.0.99", 0.0)
    assert len(table) == 3 and table.get("10.0.0.7", 0.0).tokens < 2


def test_a_source_gets_its_burst_then_its_rate() -> None:
    table = SourceTable(rate=2.0, burst=3, max_sources=8)
    assert [table.admit("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert table.admit("a", 0.5) and not table.admit("a", 0.5)  # 0.5 s at 2/s: one more
    assert table.admit("b", 0.5), "another source has its own bucket"


def test_engine_clocks_per_source_are_bounded() -> None:
    source = SourceTable(1.0, 1, 1).get("a", 0.0)
    for n in range(MAX_ENGINES + 3):
        source.set_engine_clock(bytes([n]), 1, n, 0.0)
    assert len(source.engines) == MAX_ENGINES and source.engine_clock(b"\x00") is None


def test_the_time_window_refuses_replays_and_older_boots() -> None:
    assert in_time_window(None, 1, 100, 0.0), "the first message sets the clock"
    last = (5, 1000, 0.0)
    assert in_time_window(last, 5, 1000, 10.0) and in_time_window(last, 6, 3, 10.0)
    assert not in_time_window(last, 4, 99999, 10.0), "older boots"
    assert not in_time_window(last, 5, 1000, 400.0), "the same message 400 s later: a replay"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_dropped_with_a_known_reason_or_parsed(data: bytes) -> None:
    try:
        parse(data)
    except TrapDropped as dropped:
        assert dropped.reason in REASONS
