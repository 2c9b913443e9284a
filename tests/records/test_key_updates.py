"""State.update: a key/value entry changed in one transaction, what was there returned; a value
that is not JSON is kept aside and the update starts afresh, as a damaged record is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.records.key_updates import FirstValue, MergeMapping, SetValue, UsbSeenMerge
from agent.state import DB_FILE, State


def test_each_update_returns_the_value_before_and_after_and_stores_the_after(tmp_path: Path) -> None:
    state = State.open(tmp_path)
    assert state.update(FirstValue("baseline", {"dns": ["10.0.0.1"]})) == (None, {"dns": ["10.0.0.1"]})
    assert state.update(FirstValue("baseline", {"dns": ["8.8.8.8"]}))[1] == {"dns": ["10.0.0.1"]}  # kept
    assert state.update(SetValue("baseline", {"dns": ["10.0.0.2"]})) == ({"dns": ["10.0.0.1"]},
                                                                       {"dns": ["10.0.0.2"]})  # fmt: skip
    state.update(MergeMapping("parts", {"primary": 3}))
    assert state.update(MergeMapping("parts", {"secondary": 1}))[1] == {"primary": 3, "secondary": 1}
    stick = {"vendor": "Kingston", "product": "DT", "serial": "42"}
    state.update(UsbSeenMerge((stick,), 10.0))
    _, seen = state.update(UsbSeenMerge((stick,), 20.0))
    assert seen == {"Kingston|DT|42": {**stick, "first_seen": 10.0, "last_seen": 20.0}}
    assert state.get("baseline") == {"dns": ["10.0.0.2"]} and state.get("audit.usb_devices") == seen
    state.close()


def test_a_value_that_is_not_json_is_kept_aside_and_the_update_starts_afresh(tmp_path: Path) -> None:
    State.open(tmp_path).close()
    with sqlite3.connect(tmp_path / DB_FILE) as conn:
        conn.execute("INSERT INTO kv VALUES ('parts', '{\"primary\": 3', 0)")  # torn
    state = State.open(tmp_path)
    assert state.update(MergeMapping("parts", {"secondary": 1})) == (None, {"secondary": 1})
    aside = state.get("kv.malformed.parts")
    assert aside["value"] == '{"primary": 3' and aside["error"]
    state.close()
