"""The Windows asset register readers on recorded and hand-written outputs: the PowerShell
script's JSON (fixtures/windows/inventory_system, provenance in its SOURCES.md) and a
hand-written registry (the values Windows keeps under the Uninstall and CurrentVersion keys).
The real winreg path runs under Wine in tests/windows/test_wine_inventory.py."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from collectors.system.windows import inventory as win
from collectors.system.windows.registry import REG_DWORD, REG_SZ, RegistryError, RegValue, split

FIXTURES = Path(__file__).parent / "fixtures" / "windows" / "inventory_system"
MACHINE, WOW = win.MACHINE_UNINSTALL
USER = "S-1-5-21-3623811015-3361044348-30300820-1013"


def sz(text: str) -> RegValue:
    return RegValue(REG_SZ, text)


class HandWrittenRegistry:
    """Keys as a dict of {value name: RegValue}; subkeys derived from the key paths."""

    def __init__(self, keys: dict[str, dict[str, RegValue]]) -> None:
        self.names = list(keys)  # as written (Windows keeps the case, compares without it)
        self.keys = {k.lower(): v for k, v in keys.items()}

    def get(self, key: str, name: str) -> RegValue | None:
        return self.keys.get(key.lower(), {}).get(name)

    def values(self, key: str) -> dict[str, RegValue]:
        return dict(self.keys.get(key.lower(), {}))

    def subkeys(self, key: str) -> list[str]:
        prefix = key.lower() + "\\"
        return sorted({k[len(prefix) :].split("\\")[0] for k in self.names if k.lower().startswith(prefix)})


def program(name: str, version: str, **extra: RegValue) -> dict[str, RegValue]:
    return {"DisplayName": sz(name), "DisplayVersion": sz(version), **extra}


REGISTRY = HandWrittenRegistry({
    rf"{MACHINE}\{{AC76BA86-7AD7-1033-7B44-AC0F074E4100}}": program(
        "Adobe Acrobat Reader DC", "23.006.20320", Publisher=sz("Adobe Inc."), InstallDate=sz("20231012")),
    rf"{MACHINE}\KB5034441": program("Security Update", "1", ParentKeyName=sz("OperatingSystem")),
    rf"{MACHINE}\Connection Manager": {"SystemComponent": RegValue(REG_DWORD, 1), **program("CM", "1")},
    rf"{MACHINE}\NoName": {"UninstallString": sz("x.exe")},
    rf"{WOW}\WeChat": program(
        "微信", "3.9.8.25", Publisher=sz("腾讯科技(深圳)有限公司"), InstallDate=sz("20240105")),
    rf"HKU\{USER}\{win.UNINSTALL}\ToDesk": program("ToDesk", "4.7.1.2"),
    rf"HKU\{USER}_Classes\{win.UNINSTALL}\Ghost": program("not a user hive", "1"),
    rf"HKU\S-1-5-18\{win.UNINSTALL}\System": program("the SYSTEM account's", "1"),
    win.CURRENT_VERSION: {"ProductName": sz("Windows 10 Pro"), "DisplayVersion": sz("23H2"),
                          "CurrentBuild": sz("22631"), "UBR": RegValue(REG_DWORD, 3007)},
    win.CPU_KEY: {"ProcessorNameString": sz("Intel(R) Core(TM) i5-10310U CPU @ 1.70GHz  ")},
})  # fmt: skip


def test_programs_come_from_machine_wow64_and_logged_on_users_uninstall_keys() -> None:
    found = {p.name: p for p in win.read_programs(REGISTRY)}
    assert sorted(found) == ["Adobe Acrobat Reader DC", "ToDesk", "微信"]
    wechat = found["微信"]
    assert (wechat.version, wechat.publisher, wechat.source) == (
        "3.9.8.25",
        "腾讯科技(深圳)有限公司",
        "registry",
    )
    assert wechat.installed == datetime(2024, 1, 5).timestamp()  # local midnight of the install date
    assert found["ToDesk"].installed is None  # no InstallDate: unknown, not 1970


def test_updates_system_components_and_nameless_entries_are_not_programs() -> None:
    names = {p.name for p in win.read_programs(REGISTRY)}
    assert not names & {"Security Update", "CM", "not a user hive", "the SYSTEM account's"}


def test_the_os_is_named_as_windows_shows_it_and_windows_11_is_told_by_its_build() -> None:
    found = win.read_os(REGISTRY)
    assert found is not None
    assert (found.name, found.version, found.build) == ("Windows 11 Pro", "23H2", "22631.3007")
    assert win.read_os(HandWrittenRegistry({})) is None
    cpu = win.read_cpu(REGISTRY, 8)
    assert cpu is not None and (cpu.model, cpu.logical_cpus) == (
        "Intel(R) Core(TM) i5-10310U CPU @ 1.70GHz",
        8,
    )


def test_a_real_laptops_disk_and_identity_are_read_from_the_recorded_wmi_output() -> None:
    found = win.parse_system(json.loads((FIXTURES / "lenovo_laptop.json").read_text(encoding="utf-8")))
    assert found.identity is not None
    assert (found.identity.vendor, found.identity.model, found.identity.serial) == (
        "LENOVO",
        "20TBS57S00",
        "PF2ABCDE",
    )
    fixed, stick = found.disks
    assert (fixed.model, fixed.serial, fixed.size_bytes, fixed.removable) == (
        "PC300 NVMe SK hynix 512GB", "ACE4_2E61_9000_7804.", 512105932800, False)  # fmt: skip
    assert stick.removable


def test_a_vm_without_a_serial_number_gives_an_empty_serial_and_no_disk() -> None:
    found = win.parse_system(json.loads((FIXTURES / "proxmox_vm.json").read_text(encoding="utf-8")))
    assert found.identity is not None
    assert (found.identity.vendor, found.identity.model, found.identity.serial) == ("BOCHS_", "BXPC____", "")
    assert found.disks == []
    assert win.parse_system({}).identity is None  # nothing answered: no identity, not an empty one


def test_hku_keys_are_named_and_other_hives_refused() -> None:
    assert split(r"HKU\S-1-5-18") == ("HKU", "S-1-5-18")
    assert split("HKEY_USERS") == ("HKU", "")
    with pytest.raises(RegistryError):
        split(r"HKCR\.txt")
