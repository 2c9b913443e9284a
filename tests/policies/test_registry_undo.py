"""The enforcement undo log for registry values (Linux unit tests on an in-memory registry; the
real registry and a real crash are tested under Wine in tests/windows/test_wine_enforce.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from memory_registry import MemoryRegistry

from collectors.system.windows.registry import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    RegistryError,
    RegValue,
    dword,
    parents,
)
from policies.undo import UndoLog, pending, rollback

BASE = r"HKLM\SOFTWARE\Policies\Microsoft\Windows"
USBSTOR = r"HKLM\SYSTEM\CurrentControlSet\Services\USBSTOR"


@pytest.mark.parametrize(
    "value",
    [
        RegValue(REG_DWORD, 3),
        RegValue(REG_QWORD, 2**40),
        RegValue(REG_SZ, "是 yes"),
        RegValue(REG_EXPAND_SZ, r"%SystemRoot%\x"),
        RegValue(REG_MULTI_SZ, ("a", "b")),
        RegValue(REG_BINARY, b"\x00\xff"),
    ],
)
def test_every_registry_value_type_survives_the_undo_log_json(value: RegValue) -> None:
    assert RegValue.from_json(json.loads(json.dumps(value.to_json()))) == value


def test_a_key_outside_hklm_and_hkcu_is_refused() -> None:
    with pytest.raises(RegistryError):
        parents(r"HKCR\.txt")
    assert parents(r"HKLM\A\B") == [r"HKLM\A\B", r"HKLM\A"]


def test_rollback_puts_old_values_back_removes_new_ones_and_the_keys_the_run_created(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    registry.set(USBSTOR, "Start", dword(3))
    registry.set(BASE, "Other", dword(7))  # the parent exists before the run
    undo = UndoLog(tmp_path / "undo.json", "C:\\")
    deny = BASE + r"\RemovableStorageDevices\{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"
    for key, name, value in ((USBSTOR, "Start", dword(4)), (deny, "Deny_Read", dword(1))):
        undo.remember_registry(registry, key, name)
        registry.set(key, name, value)
    undo.remember_registry(registry, USBSTOR, "Start")  # a second note of one value changes nothing
    data = pending(tmp_path / "undo.json")
    assert data is not None
    assert [(r["name"], r["old"]) for r in data["registry"]] == [
        ("Start", {"type": REG_DWORD, "data": 3}),
        ("Deny_Read", None),
    ]
    assert data["registry"][1]["created_keys"] == [deny, BASE + r"\RemovableStorageDevices"]
    done = rollback(data, registry)
    assert done.restored == (deny + r"\Deny_Read", USBSTOR + r"\Start")
    assert registry.get(USBSTOR, "Start") == dword(3)
    assert not registry.key_exists(BASE + r"\RemovableStorageDevices")
    assert registry.get(BASE, "Other") == dword(7)
    rollback(data, registry)  # idempotent: a crash during the rollback is repaired by repeating it
    assert registry.get(USBSTOR, "Start") == dword(3)


def test_a_created_key_that_gained_other_values_is_kept_by_the_rollback(tmp_path: Path) -> None:
    registry = MemoryRegistry()
    undo = UndoLog(tmp_path / "undo.json", "C:\\")
    key = BASE + r"\RemovableStorageDevices"
    undo.remember_registry(registry, key, "Deny_All")
    registry.set(key, "Deny_All", dword(1))
    registry.set(key, "SetByAnAdmin", dword(1))
    data = pending(tmp_path / "undo.json")
    assert data is not None
    rollback(data, registry)
    assert registry.get(key, "Deny_All") is None
    assert registry.get(key, "SetByAnAdmin") == dword(1)
