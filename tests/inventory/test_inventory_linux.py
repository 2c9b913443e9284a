"""The asset register (ROOM-5) of a Linux system: a hand-written tree (inventory_kit), an empty
offline root, a hostile root, rpm output, and the real host this test runs on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from inventory_kit import RecordedRunner, linux_tree, write

from collectors.inventory.gather import gather
from collectors.system.linux import software
from collectors.system.runner import SubprocessRunner

HOSTWARD = [sys.executable, "-m", "agent"]


def sections(root: Path | str, runner: Any = None) -> dict[str, Any]:
    payload = gather(runner or RecordedRunner({}), str(root)).to_payload()
    out: dict[str, Any] = payload["sections"]
    return out


def test_a_hand_written_tree_gives_maker_model_serial_disks_macs_os_and_dated_packages(
    tmp_path: Path,
) -> None:
    found = sections(linux_tree(tmp_path))
    assert {name: s["status"] for name, s in found.items()} == {
        "system": "ok", "os": "ok", "cpu": "ok", "memory": "ok", "disks": "ok", "adapters": "ok",
        "software": "ok", "usb_storage": "unavailable",
    }  # fmt: skip
    assert found["system"]["items"] == [
        {"vendor": "LENOVO", "model": "ThinkCentre M720t", "serial": "PC1ABCDE", "bios_version": "M1UKT4BA"}
    ]
    assert found["cpu"]["items"] == [{"model": "Intel(R) Core(TM) i5-9500 CPU @ 3.00GHz", "logical_cpus": 6}]
    assert found["memory"]["items"] == [{"total_bytes": 16282116 * 1024}]
    disks = {d["name"]: d for d in found["disks"]["items"]}
    assert sorted(disks) == ["nvme0n1", "sda", "vda"]  # loop0, ram0, zram0 skipped
    assert disks["nvme0n1"] == {
        "name": "nvme0n1", "vendor": "", "model": "SAMSUNG MZVLB512HBJQ-000L7", "serial": "S4ENNF0M123456",
        "wwid": "eui.0025388b91b2c3d4", "size_bytes": 1000215216 * 512, "removable": False,
    }  # fmt: skip
    assert (disks["vda"]["serial"], disks["vda"]["vendor"]) == ("disk-serial-7", "")  # a PCI id is no vendor
    assert disks["sda"]["removable"] and disks["sda"]["vendor"] == "Kingston"
    adapters = {a["name"]: (a["mac"], a["physical"]) for a in found["adapters"]["items"]}
    assert adapters == {"enp3s0": ("00:1a:2b:3c:4d:5e", True), "br0": ("02:42:ac:11:00:01", False)}
    assert found["os"]["items"][0]["name"] == "Debian GNU/Linux 12 (bookworm)"
    packages = {p["name"]: (p["version"], p["installed"], p["arch"]) for p in found["software"]["items"]}
    assert packages == {
        "adduser": ("3.134", 1_700_000_000, "all"),
        "openssh-server": ("1:9.2p1-2+deb12u3", 1_710_000_000, "amd64"),
    }  # the removed package (config-files only) is not installed software


def test_firmware_placeholders_are_no_serial_number(tmp_path: Path) -> None:
    linux_tree(tmp_path)
    write(tmp_path, "/sys/class/dmi/id/product_serial", "System Serial Number\n")
    assert sections(tmp_path)["system"]["items"][0]["serial"] == ""  # board_serial is a placeholder too


def test_an_empty_offline_root_says_what_it_could_not_read_instead_of_an_empty_register(
    tmp_path: Path,
) -> None:
    found = sections(tmp_path)
    for hardware in ("system", "cpu", "memory", "disks", "adapters"):
        assert found[hardware]["status"] == "unavailable", hardware
    assert found["os"]["status"] == "error"
    assert found["software"]["status"] == "error"
    assert "no package database" in found["software"]["reason"]["en"]
    assert "软件包数据库" in found["software"]["reason"]["zh"]


def test_a_sysfs_with_no_adapter_or_disk_is_an_error_not_an_empty_register(tmp_path: Path) -> None:
    linux_tree(tmp_path)
    for name in ("enp3s0", "br0"):
        for file in sorted((tmp_path / "sys/class/net" / name).rglob("*"), reverse=True):
            file.unlink() if file.is_file() else file.rmdir()
        (tmp_path / "sys/class/net" / name).rmdir()
    found = sections(tmp_path)
    assert found["adapters"]["status"] == "error"
    assert "reading nothing is not evidence" in found["adapters"]["reason"]["en"]
    assert found["software"]["status"] == "ok"  # the other sections still stand


def test_an_offline_root_is_read_inside_it_a_fifo_is_refused_and_a_link_stays_in_the_root(
    tmp_path: Path,
) -> None:
    root = linux_tree(tmp_path / "image")
    (root / "sys/class/dmi/id/product_serial").unlink()
    os.symlink("/etc/hostname", root / "sys/class/dmi/id/product_serial")  # the image's, not the host's
    (root / "var/lib/dpkg/status").unlink()
    os.mkfifo(root / "var/lib/dpkg/status")  # opening it for reading would block for ever
    found = sections(root)
    assert found["system"]["items"][0]["serial"] == "ward-pc-07"
    assert found["software"]["status"] == "error"
    assert "not a regular file (fifo)" in found["software"]["reason"]["en"]


def test_a_truncated_dpkg_status_is_an_error_not_an_empty_software_list(tmp_path: Path) -> None:
    linux_tree(tmp_path)
    write(tmp_path, "/var/lib/dpkg/status", "Package: adduser\nStatus: deinstall ok config-files\n")
    found = sections(tmp_path)
    assert found["software"]["status"] == "error"
    assert found["software"]["items"] == []


RPM_OUTPUT = (  # hand-written in the --queryformat of software.RPM_FORMAT
    b"bash\t5.1.8-9.el9\tx86_64\t1700000000\n"
    b"gpg-pubkey\t8483c65d-5ccc5b19\t(none)\t1700000100\n"
    b"openssh-server\t8.7p1-38.el9\tx86_64\t1710000000\n"
)


def test_an_rpm_system_is_read_through_rpm_with_install_times(tmp_path: Path) -> None:
    write(tmp_path, "/var/lib/rpm/rpmdb.sqlite", "")
    argv = ("rpm", "--root", str(tmp_path), "-qa", "--queryformat", software.RPM_FORMAT)
    found = software.read_software(RecordedRunner({argv: RPM_OUTPUT}), str(tmp_path))
    assert found is not None
    assert [(s.name, s.version, s.installed, s.arch) for s in found] == [
        ("bash", "5.1.8-9.el9", 1_700_000_000, "x86_64"),
        ("gpg-pubkey", "8483c65d-5ccc5b19", 1_700_000_100, ""),
        ("openssh-server", "8.7p1-38.el9", 1_710_000_000, "x86_64"),
    ]
    garbage = RecordedRunner({argv: b"error: rpmdb open failed\nsomething else\n"})
    assert sections(tmp_path, garbage)["software"]["status"] == "error"


def test_the_live_host_lists_its_adapters_packages_and_disks(tmp_path: Path) -> None:
    config = tmp_path / "hostward.yaml"
    config.write_text(f"version: 1\nstate_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    done = subprocess.run(
        [*HOSTWARD, "inventory", "--json", "-c", str(config)], capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["live"] is True and found["platform"] == "linux"
    parts = found["sections"]
    assert parts["adapters"]["status"] == "ok" and parts["adapters"]["items"]
    assert all(a["name"] != "lo" for a in parts["adapters"]["items"])
    assert parts["software"]["status"] == "ok" and len(parts["software"]["items"]) > 50
    assert parts["disks"]["status"] == "ok"
    assert parts["usb_storage"]["status"] == "ok"  # the state opened: the (maybe empty) USB history
    # in process, the same reading of the same host
    assert sections("/", SubprocessRunner())["adapters"]["items"] == parts["adapters"]["items"]
