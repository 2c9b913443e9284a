r"""`hostward inventory` on Windows CPython under Wine: the software of the asset register
(ROOM-5) comes from the real registry through winreg, from the machine's Uninstall keys (64-bit
and WOW6432Node) and from the logged-on user's (HKU\<sid>); keys are added with Wine's own
`reg add` first. Wine's powershell.exe is a stub that prints nothing: the sections fed by
PowerShell (maker and serial, disks, adapters) must be errors, never empty registers.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import datetime

from wine_kit import WineBox, base_env

UNINSTALL = r"Software\Microsoft\Windows\CurrentVersion\Uninstall"
PROGRAMS = (
    (rf"HKLM\{UNINSTALL}\HostwardTestHIS", "医院信息系统 HIS 客户端", "5.2.1", "20261201"),
    (r"HKLM\Software\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\HostwardLegacy32",
     "Legacy 32-bit Client", "1.0.3", ""),
    (rf"HKCU\{UNINSTALL}\HostwardPerUser", "Per-user Tool", "2.0", ""),
)  # fmt: skip


def reg_add(box: WineBox, key: str, name: str, value: str) -> None:
    done = subprocess.run(
        ["wine", "reg", "add", key, "/v", name, "/t", "REG_SZ", "/d", value, "/f"],
        env=base_env(box.prefix), stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_inventory_on_windows_lists_the_uninstall_keys_of_machine_wow64_and_user(wine_box: WineBox) -> None:
    for key, name, version, date in PROGRAMS:
        reg_add(wine_box, key, "DisplayName", name)
        reg_add(wine_box, key, "DisplayVersion", version)
        if date:
            reg_add(wine_box, key, "InstallDate", date)
    here = wine_box.scratch("inventory")
    config = here / "hostward.yaml"
    config.write_text(f"state_dir: '{wine_box.win_path(here)}\\state'\n", encoding="utf-8")
    done = wine_box.hostward("inventory", "--json", "-c", wine_box.win_path(config), timeout=180)
    assert done.returncode == 0, done.describe()
    report = json.loads(done.out("cp1252"))  # Chinese \u-escaped on a cp1252 pipe, intact after loads
    assert report["platform"] == "windows" and report["live"] is True
    parts = report["sections"]
    assert parts["software"]["status"] == "ok"
    software = {s["name"]: s for s in parts["software"]["items"]}
    for _, name, version, _ in PROGRAMS:
        assert software[name]["version"] == version, name
        assert software[name]["source"] == "registry"
    installed = software["医院信息系统 HIS 客户端"]["installed"]
    assert abs(installed - datetime(2026, 12, 1).timestamp()) <= 86400  # the date, in Wine's local time
    assert software["Per-user Tool"]["installed"] is None
    for fed_by_powershell in ("system", "disks", "adapters"):
        assert parts[fed_by_powershell]["status"] == "error", fed_by_powershell
        assert parts[fed_by_powershell]["reason"]["zh"], fed_by_powershell
    assert parts["os"]["status"] == "ok" and parts["os"]["items"][0]["id"] == "windows"
    assert parts["memory"]["status"] == "ok" and parts["memory"]["items"][0]["total_bytes"] > 0
    assert parts["usb_storage"]["status"] == "ok"  # the state opened: its USB history (empty here)

    done = wine_box.hostward("inventory", "--csv", "-c", wine_box.win_path(config), timeout=180)
    assert done.returncode == 0, done.describe()
    assert done.stdout.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM whatever the console code page
    rows = list(csv.reader(io.StringIO(done.stdout.decode("utf-8-sig"))))
    assert ["software", "医院信息系统 HIS 客户端", "version", "5.2.1"] in rows
