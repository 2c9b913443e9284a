"""collectors/host_platform.py on this machine: what counts as unavailable on Windows, and what
stays an error (no Wine needed; the Wine run is tests/windows/test_collect.py)."""

from __future__ import annotations

import psutil
import pytest

from collectors import host_platform
from collectors.host import collect_host

PDH = "PdhAddEnglishCounterW failed. Performance counters may be disabled."


def _raise(message: str) -> None:
    raise RuntimeError(message)


@pytest.fixture
def on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_platform, "WINDOWS", True)
    monkeypatch.setattr(host_platform, "_load_started", True)


def test_missing_performance_counters_on_windows_make_load_and_swap_unavailable(
    on_windows: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(psutil, "getloadavg", lambda: _raise(PDH))
    monkeypatch.setattr(psutil, "swap_memory", lambda: _raise(PDH))
    snap = collect_host(temperatures=False)
    assert snap.load is None and snap.swap is None
    # inodes: Windows file systems have no inode counts at all (statvfs is POSIX).
    assert set(snap.unavailable) == {"load", "swap", "inodes"}
    assert "load" not in snap.errors and "swap" not in snap.errors


def test_any_other_failure_on_windows_is_still_an_error(
    on_windows: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(psutil, "getloadavg", lambda: _raise("the counter thread died"))
    snap = collect_host(temperatures=False)
    assert snap.load is None
    assert "the counter thread died" in snap.errors["load"]
    assert "load" not in snap.unavailable


def test_the_same_pdh_message_off_windows_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_platform, "WINDOWS", False)
    monkeypatch.setattr(psutil, "getloadavg", lambda: _raise(PDH))
    snap = collect_host(temperatures=False)
    assert "load" in snap.errors and snap.unavailable == {}


def test_the_first_windows_load_reading_is_unavailable_not_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_platform, "WINDOWS", True)
    monkeypatch.setattr(host_platform, "_load_started", False)
    monkeypatch.setattr(psutil, "getloadavg", lambda: (0.0, 0.0, 0.0))
    first = collect_host(temperatures=False)
    assert first.load is None and "none yet" in first.unavailable["load"]
    monkeypatch.setattr(psutil, "getloadavg", lambda: (0.5, 0.25, 0.125))
    second = collect_host(temperatures=False)
    assert second.load is not None and second.load.load1 == 0.5 and "load" not in second.unavailable


def test_windows_filesystem_sizes_come_from_disk_usage(on_windows: None) -> None:
    usage = host_platform.disk_usage("/")
    real = psutil.disk_usage("/")
    assert usage.size == real.total and usage.free == usage.avail and usage.files == 0


def test_cd_drives_are_skipped_on_windows_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_platform, "WINDOWS", True)
    assert host_platform.skip_partition("ro,cdrom") and not host_platform.skip_partition("rw,fixed")
    monkeypatch.setattr(host_platform, "WINDOWS", False)
    assert not host_platform.skip_partition("ro,cdrom")


def test_an_unavailable_part_survives_the_payload_round_trip(
    on_windows: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(psutil, "getloadavg", lambda: _raise(PDH))
    snap = collect_host(temperatures=False)
    again = type(snap).from_payload(snap.to_payload())
    assert again.unavailable == snap.unavailable
