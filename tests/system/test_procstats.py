"""The Linux kernel counters the host collector adds to psutil's (/proc/diskstats, net/dev,
meminfo, vmstat, stat). Recorded lines come from this project's build machine (Linux 6.18, a
virtio disk) and from the kernel's Documentation/admin-guide/iostats.rst field layout of
older kernels (14 fields before 4.18, 18 before 5.5)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from collectors.system.files import SystemReadError
from collectors.system.linux import procstats

DISKSTATS_6_18 = (
    " 254       0 vda 3547972 366510 139635242 2358949 1401325 3942528 276180912 2874537 0 698760 "
    "5638624 3327573 329 231770744 384131 170020 21005\n"
    "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
)
DISKSTATS_4_9 = "   8       0 sda 100 1 800 50 200 2 1600 70 3 120 130\n"
NETDEV = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
    "carrier compressed\n"
    "    lo:    2000      20    0    0    0     0          0         0     2000      20    0    0    0     0 "
    "      0          0\n"
    "  eth0: 4131757859   96754    1    2    3     4          5         6  6093573   56549    7    8    9 "
    "   10       11          12\n"
)


def test_diskstats_of_a_recent_kernel_give_io_in_flight_weighted_time_discards_and_flushes() -> None:
    stats = procstats.parse_diskstats(DISKSTATS_6_18)
    vda = stats["vda"]
    assert vda.io_now == 0 and vda.io_time_weighted == 5638.624
    assert (vda.discards, vda.discards_merged) == (3327573, 329)
    assert vda.discarded_bytes == 231770744 * 512 and vda.discard_time == 384.131
    assert (vda.flushes, vda.flush_time) == (170020, 21.005)
    assert "loop0" in stats  # filtering is the host collector's job


def test_an_old_kernels_diskstats_leave_discards_and_flushes_unknown_not_zero() -> None:
    sda = procstats.parse_diskstats(DISKSTATS_4_9)["sda"]
    assert sda.io_now == 3 and sda.io_time_weighted == 0.13
    assert sda.discards is None and sda.flushes is None


@pytest.mark.parametrize("text", ["   8 0 sda 1 2 3\n", "   8 0 sda 1 2 3 4 5 6 7 8 9 10 eleven\n"])
def test_a_truncated_or_garbled_diskstats_line_is_refused(text: str) -> None:
    with pytest.raises(SystemReadError, match="/proc/diskstats"):
        procstats.parse_diskstats(text)


def test_net_dev_gives_the_columns_psutil_leaves_out_per_interface() -> None:
    eth0 = procstats.parse_netdev(NETDEV)["eth0"]
    assert (eth0.rx_fifo, eth0.rx_frame, eth0.rx_compressed, eth0.rx_multicast) == (3, 4, 5, 6)
    assert (eth0.tx_fifo, eth0.tx_colls, eth0.tx_carrier, eth0.tx_compressed) == (9, 10, 11, 12)
    with pytest.raises(SystemReadError, match="/proc/net/dev"):
        procstats.parse_netdev(NETDEV.replace("      11          12\n", "\n"))


def test_meminfo_keeps_the_fields_in_kb_as_bytes_and_refuses_a_file_without_any() -> None:
    text = "MemTotal:        8000000 kB\nHugePages_Total:       0\nActive(anon):     1024 kB\n"
    assert procstats.parse_meminfo(text) == {"MemTotal": 8_192_000_000, "Active(anon)": 1024 * 1024}
    with pytest.raises(SystemReadError, match="meminfo"):
        procstats.parse_meminfo("HugePages_Total:       0\n")


def test_vmstat_and_stat_keep_only_the_chosen_counters() -> None:
    text = "nr_free_pages 1\npgfault 42\noom_kill 0\n"
    vmstat = procstats.parse_counters(text, procstats.VMSTAT_FIELDS, "v")
    assert vmstat == {"pgfault": 42, "oom_kill": 0}
    stat = procstats.parse_counters("cpu 1 2 3\nprocesses 9\nprocs_running 2\n", procstats.STAT_FIELDS, "s")
    assert stat == {"processes": 9, "procs_running": 2}


def test_a_root_without_proc_reads_as_absent_and_an_empty_file_as_an_error(tmp_path: Path) -> None:
    assert procstats.read_diskstats(tmp_path) is None and procstats.read_meminfo(tmp_path) is None
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "vmstat").write_text("")
    with pytest.raises(SystemReadError, match="empty"):
        procstats.read_vmstat(tmp_path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux")
def test_this_machines_files_parse() -> None:
    assert procstats.read_meminfo() and procstats.read_stat() and procstats.read_netdev() is not None
    assert procstats.read_diskstats() is not None and procstats.read_vmstat()
