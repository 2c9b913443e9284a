"""Disk health (smartctl), failed systemd units and clock sync: parsers on recorded real outputs
(fixtures/smartctl/PROVENANCE.md), and the real smartctl/systemctl/timedatectl where they run."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from collectors.host_health import HostHealth, collect_host_health
from collectors.smart import SmartUnavailable, parse_smartctl, read_smart
from collectors.system.linux.systemd import parse_failed_units, parse_ntp_synchronized
from collectors.system.runner import CommandResult, SubprocessRunner
from collectors.system.windows.stopped_services import stopped_automatic

FIXTURES = Path(__file__).parent / "fixtures" / "smartctl"
SMARTCTL = shutil.which("smartctl")


def fixture(name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_a_sata_disk_that_passes_reports_its_reallocated_sectors() -> None:
    disk = parse_smartctl(fixture("ata-ST3500418AS-reallocated.json"))
    assert disk.healthy is True and disk.protocol == "ATA" and disk.model == "ST3500418AS"
    assert disk.errors == {
        "reallocated_sectors": 304, "pending_sectors": 0, "offline_uncorrectable": 0, "error_log_entries": 0,
    }  # fmt: skip


def test_a_disk_with_logged_errors_is_read_despite_a_nonzero_exit_status() -> None:
    data = fixture("ata-ST3200820AS-error-log.json")
    assert data["smartctl"]["exit_status"] == 64
    disk = parse_smartctl(data)
    assert disk.healthy is True and disk.errors["error_log_entries"] == 98


def test_a_failing_nvme_disk_is_unhealthy_and_a_good_one_healthy() -> None:
    failing = parse_smartctl(fixture("nvme-SAMSUNG_MZWLL3T2HAJQ-failing.json"))
    good = parse_smartctl(fixture("nvme-CT250P2SSD8.json"))
    assert (failing.healthy, failing.device, failing.protocol) == (False, "/dev/nvme0", "NVMe")
    assert good.healthy is True and good.errors == {"media_errors": 0, "error_log_entries": 1}


def test_a_scsi_disk_reports_its_uncorrected_errors() -> None:
    disk = parse_smartctl(fixture("scsi-SEAGATE_ST373453LC.json"))
    assert disk.healthy is True and disk.errors == {"uncorrected_errors": 0}


def test_a_device_smartctl_could_not_open_is_an_error_not_a_healthy_disk() -> None:
    with pytest.raises(ValueError, match="Unable to detect device type"):
        parse_smartctl(fixture("virtio-vda-unreadable.json"))
    no_verdict = fixture("nvme-CT250P2SSD8.json")
    del no_verdict["smart_status"]
    with pytest.raises(ValueError, match="no health verdict"):
        parse_smartctl(no_verdict)


class ReplayRunner:
    """Plays recorded smartctl outputs by argv: no disk here answers SMART (PROVENANCE.md)."""

    def __init__(self, answers: Mapping[tuple[str, ...], bytes]) -> None:
        self.answers = answers

    def run(self, argv: Sequence[str], *, timeout: float, **_: Any) -> CommandResult:
        out = self.answers[tuple(argv)]
        return CommandResult(tuple(argv), 0, out, b"", 0.01)


def test_one_unreadable_disk_is_an_error_and_the_others_are_still_reported() -> None:
    scan = {"devices": [{"name": "/dev/sda", "type": "sat"}, {"name": "/dev/vda", "type": "auto"}]}
    runner = ReplayRunner({
        ("smartctl", "--scan", "--json"): json.dumps(scan).encode(),
        ("smartctl", "--json", "-a", "-d", "sat", "/dev/sda"):
            (FIXTURES / "ata-ST3500418AS-reallocated.json").read_bytes(),
        ("smartctl", "--json", "-a", "-d", "auto", "/dev/vda"):
            (FIXTURES / "virtio-vda-unreadable.json").read_bytes(),
        ("smartctl", "--json", "-a", "-d", "auto", "/dev/sdz"): b"Segmentation fault",
    })  # fmt: skip
    reading = read_smart(runner)
    assert [d.device for d in reading.disks] == ["/dev/sda"] and list(reading.errors) == ["/dev/vda"]
    assert "not JSON" in read_smart(runner, [("/dev/sdz", "auto")]).errors["/dev/sdz"]
    with pytest.raises(SmartUnavailable, match="no disk"):
        read_smart(ReplayRunner({("smartctl", "--scan", "--json"): b'{"devices": []}'}))


@pytest.mark.skipif(SMARTCTL is None, reason="needs Debian smartmontools (smartctl)")
def test_the_real_smartctl_cannot_read_a_non_disk_and_says_so() -> None:
    # No disk here answers SMART (a virtio disk; loop devices neither): /dev/null stands for one.
    reading = read_smart(SubprocessRunner(), [("/dev/null", "auto")])
    assert reading.disks == () and "could not read the device" in reading.errors["/dev/null"]


@pytest.mark.skipif(SMARTCTL is None, reason="needs Debian smartmontools (smartctl)")
def test_the_real_host_reports_each_part_read_failed_or_unavailable_never_silently_healthy() -> None:
    health = collect_host_health(SubprocessRunner())
    assert health.disks or "smart" in health.unavailable or any(k.startswith("smart") for k in health.errors)
    assert (health.failed_units is not None) != ("systemd_units" in {**health.errors, **health.unavailable})
    assert (health.time_synchronized is not None) != ("time_sync" in {**health.errors, **health.unavailable})
    assert HostHealth.from_payload(json.loads(json.dumps(health.to_payload()))) == health


def test_without_smartctl_smart_is_unavailable_not_healthy(tmp_path: Path) -> None:
    runner = SubprocessRunner(base_env={"PATH": str(tmp_path)})  # an empty PATH: nothing installed
    health = collect_host_health(runner)
    assert health.disks == () and "install smartmontools" in health.unavailable["smart"]
    assert health.failed_units is None and health.time_synchronized is None
    assert "systemd_units" in health.unavailable and "time_sync" in health.unavailable
    assert "disabled" in collect_host_health(runner, smart=False).unavailable["smart"]


# systemctl/timedatectl output: systemd is not PID 1 on the test machine, so these outputs follow
# systemd's documented JSON table format (lower-cased column names), not a recording.
def test_failed_units_are_read_from_systemctl_json_and_bad_output_is_an_error() -> None:
    out = (b'[{"unit":"postgresql.service","load":"loaded","active":"failed","sub":"failed",'
           b'"description":"PostgreSQL"},{"unit":"ssh.service","load":"loaded","active":"active",'
           b'"sub":"running","description":"OpenBSD Secure Shell server"}]')  # fmt: skip
    assert parse_failed_units(out) == ("postgresql.service",)
    assert parse_failed_units(b"[]") == ()
    for bad in (b"", b"0 loaded units listed.", b'{"unit": "x"}', b'[{"load": "loaded"}]'):
        with pytest.raises(ValueError):
            parse_failed_units(bad)


def test_ntp_synchronised_is_yes_or_no_and_anything_else_an_error() -> None:
    assert parse_ntp_synchronized(b"yes\n") is True and parse_ntp_synchronized(b"no\n") is False
    with pytest.raises(ValueError):
        parse_ntp_synchronized(b"")


def test_stopped_automatic_windows_services_leave_out_manual_disabled_and_by_design_ones() -> None:
    data = json.loads(
        (FIXTURES.parent / "windows" / "services_auto_stopped.json").read_text(encoding="utf-8")
    )
    assert stopped_automatic(data) == ("MSSQLSERVER", "Spooler", "WinDefend")
    assert stopped_automatic([{"Name": "Dhcp", "State": "Running", "StartMode": "Auto"}]) == ()


def test_windows_services_without_powershell_are_an_error_not_nothing_stopped(tmp_path: Path) -> None:
    # The real runner with nothing on PATH: powershell.exe cannot start, as when it is blocked.
    health = collect_host_health(SubprocessRunner(base_env={"PATH": str(tmp_path)}), windows=True)
    assert (
        health.stopped_services is None
        and "PowerShell could not be started" in health.errors["windows_services"]
    )
    assert {"systemd_units", "time_sync"} <= set(health.unavailable)
    assert HostHealth.from_payload(json.loads(json.dumps(health.to_payload()))) == health
