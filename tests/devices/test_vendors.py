"""Vendor running-config handling on recorded CLI output (data/cli/<platform>/running-config/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.devices.vendors import PLATFORMS, UnknownPlatform, decode_output, normalize, platform

CLI = Path(__file__).parent / "data" / "cli"


def recorded(platform_name: str, case: str) -> bytes:
    return (CLI / platform_name / "running-config" / case).read_bytes()


def test_huawei_config_drops_timestamps_prompts_and_pager_debris() -> None:
    config = normalize("huawei", decode_output(recorded("huawei", "s5735_utf8.txt")))
    assert config.hostname == "HIS-CORE-S5735"
    assert "Last configuration was" not in config.text and "Software Version" not in config.text
    assert "More" not in config.text and "\x1b" not in config.text and "\r" not in config.text
    assert "<HIS-CORE-S5735>" not in config.text and "display current-configuration" not in config.text
    assert " description 到UPS机房\n" in config.text
    assert config.text.startswith("#\nsysname HIS-CORE-S5735\n") and config.text.endswith("return\n")
    assert "  port default vlan 10\n#\ninterface GigabitEthernet0/0/2\n" not in config.text
    assert " port default vlan 10\n#\ninterface GigabitEthernet0/0/2\n" in config.text


def test_h3c_gbk_output_is_decoded_and_normalised() -> None:
    raw = recorded("hp_comware", "s5130_gbk.txt")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    config = normalize("hp_comware", decode_output(raw))
    assert config.hostname == "H3C-ACCESS-3F"
    assert " description 三楼门诊收费处-1号窗口\n" in config.text and " name 门诊收费\n" in config.text
    assert "#\n line class vty\n" in config.text  # the pager's cursor moves are gone
    assert "\ufffd" not in config.text


def test_gbk_forced_encoding_and_utf8_auto_detection() -> None:
    assert decode_output("机房".encode("gbk"), "gbk") == "机房"
    assert decode_output("机房".encode()) == "机房"
    assert decode_output("机房".encode("gbk"), "utf-8") != "机房"


def test_ruijie_and_cisco_drop_byte_counts_and_change_stamps() -> None:
    ruijie = normalize("ruijie_os", decode_output(recorded("ruijie_os", "s2910.txt")))
    assert ruijie.hostname == "RG-S2910-2F"
    assert "Current configuration" not in ruijie.text and "Building configuration" not in ruijie.text
    assert ruijie.text.startswith("!\nversion 11.0(5)B9P59\n") and ruijie.text.endswith("end\n")
    cisco = normalize("cisco_ios", decode_output(recorded("cisco_ios", "c2960.txt")))
    assert cisco.hostname == "core-2960"
    for volatile in ("Last configuration change", "NVRAM config last updated", "ntp clock-period"):
        assert volatile not in cisco.text
    assert "ntp server 10.0.0.1\n" in cisco.text and "core-2960#" not in cisco.text


def test_only_volatile_changes_leave_the_config_equal_and_real_changes_do_not() -> None:
    raw = decode_output(recorded("cisco_ios", "c2960.txt"))
    later = raw.replace("09:12:44 CST Fri Nov 20 2026", "11:00:00 CST Mon Nov 23 2026")
    later = later.replace("Current configuration : 2417 bytes", "Current configuration : 2419 bytes")
    assert normalize("cisco_ios", later).text == normalize("cisco_ios", raw).text
    changed = raw.replace("ntp server 10.0.0.1", "ntp server 10.0.0.9")
    assert normalize("cisco_ios", changed).text != normalize("cisco_ios", raw).text


def test_unknown_platform_lists_the_supported_ones() -> None:
    with pytest.raises(UnknownPlatform) as info:
        platform("juniper_junos")
    for name in PLATFORMS:
        assert name in str(info.value)
