"""The daily inspection record shows the day's access events and each USB stick plugged in,
with its serial number and the users logged in; no record at all is "no data", never "ok"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from agent.actions.access_log import add_totals
from agent.report.daily import access_item, day_bounds
from agent.state import State
from collectors.access import AccessEvent


def test_the_day_shows_usb_insertions_with_serial_and_users_and_warns_on_many_failed_logins(
    tmp_path: Path,
) -> None:
    state = State.open(tmp_path)
    today = date.today()
    start, end = day_bounds(today)
    noon = start + 12 * 3600
    stick = AccessEvent(
        noon,
        "usb",
        "zhangwei",
        "uevent",
        "connected",
        "",
        {"vendor": "Kingston", "product": "DataTraveler 3.0", "serial": "E0D55EA5"},
    )
    add_totals(state, [stick, AccessEvent(noon, "login", "zhangwei", "wtmp")])
    item = access_item(state, today, start, end)
    assert item.level == "ok"
    assert (
        "1 USB storage insertions" in item.en and "Kingston DataTraveler 3.0 E0D55EA5 (zhangwei)" in item.en
    )
    assert "U 盘插入 1 次" in item.zh
    add_totals(state, [AccessEvent(noon + i, "failed_login", "root", "btmp") for i in range(21)])
    assert access_item(state, today, start, end).level == "warn"
    assert (
        "0 USB"
        in access_item(state, date.fromtimestamp(end + 86400 * 3), end + 3 * 86400, end + 4 * 86400).en
    )


def test_no_access_record_is_no_data(tmp_path: Path) -> None:
    start, end = day_bounds(date.today())
    assert access_item(State.open(tmp_path), date.today(), start, end).level == "nodata"
