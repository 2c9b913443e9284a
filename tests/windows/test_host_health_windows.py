"""The host_health parts on Windows CPython (the bundle under Wine): SMART without smartctl.exe is
unavailable, the systemd parts are unavailable, and Wine's stub PowerShell makes the services
reading an error, never "no service stopped". Inodes are unavailable on Windows filesystems."""

from __future__ import annotations

import json

from wine_kit import WineBox

HEALTH = (
    "import json; from collectors.host_health import collect_host_health; "
    "from collectors.system.runner import SubprocessRunner; "
    "print(json.dumps(collect_host_health(SubprocessRunner()).to_payload()))"
)


def test_host_health_on_windows_reports_unavailable_and_unreadable_parts_never_healthy(
    wine_box: WineBox,
) -> None:
    done = wine_box.python("-c", HEALTH)
    assert done.returncode == 0, done.describe()
    health = json.loads(done.out("cp1252"))
    assert health["disks"] == [] and "smartctl" in health["unavailable"]["smart"]
    assert health["unavailable"]["systemd_units"] == "Windows has no systemd"
    assert health["failed_units"] is None and health["time_synchronized"] is None
    # Wine's powershell.exe is a stub that prints nothing: an error, not an empty list.
    assert health["stopped_services"] is None and "windows_services" in health["errors"]


def test_collect_on_windows_marks_inodes_unavailable_and_reads_link_states(wine_box: WineBox) -> None:
    done = wine_box.hostward("collect", "--json")
    assert done.returncode == 0, done.describe()
    snap = json.loads(done.out("cp1252"))
    assert "no inode counts" in snap["unavailable"]["inodes"]
    assert all(n["up"] in (True, False, None) for n in snap["networks"])
