"""The host collector on this very machine (real psutil, real /proc), plus a real bind mount
inside a private mount namespace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from collectors.host import PSEUDO_FS_TYPES, HostSnapshot, collect_host

DEFAULT_TYPES = ("squashfs", "iso9660", "overlay", "tmpfs", "devtmpfs", "nsfs")
DEFAULT_MOUNTS = ("/proc", "/sys", "/dev", "/run", "/snap", "/var/lib/docker")


def test_a_snapshot_of_this_machine_has_sane_values() -> None:
    snap = collect_host(True, DEFAULT_TYPES, DEFAULT_MOUNTS)
    assert snap.errors == {}
    assert snap.memory is not None and snap.memory.total > 0
    assert 0 < snap.memory.available <= snap.memory.total
    assert snap.cpu_count == psutil.cpu_count()
    assert snap.cpu_seconds["idle"] > 0 and "user" in snap.cpu_seconds and "guest" not in snap.cpu_seconds
    assert snap.load is not None and snap.load.load1 >= 0
    assert snap.boot_time is not None and snap.boot_time < snap.taken
    assert snap.processes is not None and snap.processes >= 1
    assert [fs.mountpoint for fs in snap.filesystems].count("/") == 1
    root = next(fs for fs in snap.filesystems if fs.mountpoint == "/")
    assert root.size >= root.free >= root.avail >= 0 and root.size > 0
    assert all(n.interface != "lo" for n in snap.networks)


def test_pseudo_filesystems_and_excluded_mounts_are_never_reported() -> None:
    snap = collect_host(False, DEFAULT_TYPES, DEFAULT_MOUNTS)
    assert snap.filesystems, "at least the root filesystem"
    for fs in snap.filesystems:
        assert fs.fstype not in PSEUDO_FS_TYPES and fs.fstype not in DEFAULT_TYPES
        assert not fs.mountpoint.startswith(("/proc", "/sys", "/dev/", "/run/"))


def test_a_configured_type_exclude_removes_the_root_filesystem() -> None:
    root_type = next(p.fstype for p in psutil.disk_partitions(all=True) if p.mountpoint == "/")
    snap = collect_host(False, (*DEFAULT_TYPES, root_type), DEFAULT_MOUNTS)
    assert "/" not in [fs.mountpoint for fs in snap.filesystems]


def test_loop_and_ram_devices_are_not_reported_as_disks() -> None:
    snap = collect_host(False)
    names = [d.device for d in snap.disks]
    assert not [n for n in names if n.startswith(("loop", "ram", "zram"))]
    physical = [n for n in os.listdir("/sys/block") if not n.startswith(("loop", "ram", "zram", "dm-"))]
    assert sorted(names) == sorted(physical)


def test_one_unreadable_part_is_recorded_and_the_rest_still_collected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def denied() -> None:
        raise PermissionError(13, "Permission denied", "/proc/loadavg")

    monkeypatch.setattr(psutil, "getloadavg", denied)
    snap = collect_host(False)
    assert snap.load is None
    assert snap.errors.keys() == {"load"} and "Permission denied" in snap.errors["load"]
    assert snap.memory is not None and snap.memory.total > 0


def test_the_payload_round_trips_through_json() -> None:
    snap = collect_host(True, DEFAULT_TYPES, DEFAULT_MOUNTS)
    again = HostSnapshot.from_payload(json.loads(json.dumps(snap.to_payload())))
    assert again == snap
    with pytest.raises(KeyError):
        HostSnapshot.from_payload({"taken": 1.0})


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
def test_a_bind_mount_is_reported_once_but_a_second_filesystem_is_reported(tmp_path: Path) -> None:
    # A private mount namespace: the binds and the tmpfs exist only for this child process.
    src, bind, other = tmp_path / "src", tmp_path / "bind", tmp_path / "other"
    for d in (src, bind, other):
        d.mkdir()
    script = (
        "import json, subprocess, sys\n"
        "subprocess.run(['mount', '--bind', sys.argv[1], sys.argv[2]], check=True)\n"
        "subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'hostward-test', sys.argv[3]],\n"
        "               check=True)\n"
        "from collectors.host import collect_host\n"
        "snap = collect_host(False, (), ('/proc', '/sys', '/dev', '/run'))\n"
        "print(json.dumps([fs.mountpoint for fs in snap.filesystems]))\n"
    )
    out = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", script, str(src), str(bind),
         str(other)],
        capture_output=True, text=True, timeout=30, check=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    mounts = json.loads(out.stdout)
    assert str(bind) not in mounts
    assert str(other) in mounts
    assert "/" in mounts
