"""Incremental reading of a rotating log (collectors/system/logtail.py): between two reads the
log is rotated the three ways logrotate does it (rename + create, copytruncate, gzip of the old
file); every line is read exactly once. Real files in a temporary root, real gzip."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from collectors.system.logtail import Bookmark, read_new

LOG = "/var/log/auth.log"


def _path(root: Path, name: str = LOG) -> Path:
    p = root / name.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def append(root: Path, *lines: str, name: str = LOG) -> None:
    with open(_path(root, name), "a", encoding="utf-8") as fh:
        fh.writelines(f"{line}\n" for line in lines)


def read(root: Path, mark: Bookmark | None) -> tuple[list[str], Bookmark | None, str]:
    tail = read_new(str(root), LOG, mark)
    return [u.decode() for u in tail.units], tail.bookmark, tail.gap


def test_a_log_read_twice_gives_each_line_once_and_a_half_written_line_waits(tmp_path: Path) -> None:
    append(tmp_path, "a1", "a2")
    with open(_path(tmp_path), "a", encoding="utf-8") as fh:
        fh.write("a3 half")
    lines, mark, gap = read(tmp_path, None)
    assert (lines, gap) == (["a1", "a2"], "")
    append(tmp_path, " done", "a4")
    lines, mark, _ = read(tmp_path, mark)
    assert lines == ["a3 half done", "a4"]
    assert read(tmp_path, mark)[0] == []


def test_rename_and_create_rotation_between_reads_loses_and_repeats_nothing(tmp_path: Path) -> None:
    append(tmp_path, "a1", "a2")
    _, mark, _ = read(tmp_path, None)
    append(tmp_path, "a3")  # written after the read, before the rotation
    os.rename(_path(tmp_path), _path(tmp_path, LOG + ".1"))
    append(tmp_path, "b1", "b2")
    lines, mark, gap = read(tmp_path, mark)
    assert (lines, gap) == (["a3", "b1", "b2"], "")
    assert read(tmp_path, mark)[0] == []


def test_copytruncate_rotation_between_reads_loses_and_repeats_nothing(tmp_path: Path) -> None:
    append(tmp_path, "a1", "a2")
    _, mark, _ = read(tmp_path, None)
    append(tmp_path, "a3")
    shutil.copyfile(_path(tmp_path), _path(tmp_path, LOG + ".1"))
    os.truncate(_path(tmp_path), 0)  # same inode, now empty
    append(tmp_path, "b1")
    lines, mark, gap = read(tmp_path, mark)
    assert (lines, gap) == (["a3", "b1"], "")


def test_a_rotated_file_compressed_before_the_next_read_is_read_on_from_the_bookmark(tmp_path: Path) -> None:
    append(tmp_path, "a1", "a2")
    _, mark, _ = read(tmp_path, None)
    append(tmp_path, "a3")
    old = _path(tmp_path).read_bytes()
    _path(tmp_path).unlink()
    _path(tmp_path, LOG + ".1.gz").write_bytes(gzip.compress(old))
    append(tmp_path, "b1")
    lines, mark, gap = read(tmp_path, mark)
    assert (lines, gap) == (["a3", "b1"], "")
    # two more rotations (delaycompress): .1 plain, .2.gz; nothing new in between
    os.rename(_path(tmp_path, LOG + ".1.gz"), _path(tmp_path, LOG + ".2.gz"))
    os.rename(_path(tmp_path), _path(tmp_path, LOG + ".1"))
    append(tmp_path, "c1")
    assert read(tmp_path, mark)[0] == ["c1"]


def test_the_first_read_imports_the_kept_rotations_oldest_first(tmp_path: Path) -> None:
    _path(tmp_path, LOG + ".2.gz").write_bytes(gzip.compress(b"z1\nz2\n"))
    append(tmp_path, "y1", name=LOG + ".1")
    append(tmp_path, "x1")
    assert read(tmp_path, None)[0] == ["z1", "z2", "y1", "x1"]


def test_a_bookmarked_file_rotated_away_is_reported_as_a_gap_and_the_rest_is_read(tmp_path: Path) -> None:
    append(tmp_path, "a1")
    _, mark, _ = read(tmp_path, None)
    _path(tmp_path).unlink()  # rotated and deleted before the agent looked again
    append(tmp_path, "b1")
    lines, _, gap = read(tmp_path, mark)
    assert lines == ["b1"]
    assert "no longer kept" in gap


def test_fixed_size_records_are_consumed_whole_and_a_short_tail_waits(tmp_path: Path) -> None:
    p = _path(tmp_path, "/var/log/wtmp")
    p.write_bytes(b"A" * 8 + b"B" * 5)
    tail = read_new(str(tmp_path), "/var/log/wtmp", None, unit=8)
    assert tail.units == [b"A" * 8]
    with open(p, "ab") as fh:
        fh.write(b"B" * 3)
    again = read_new(str(tmp_path), "/var/log/wtmp", tail.bookmark, unit=8)
    assert again.units == [b"B" * 8]


def test_the_byte_cap_stops_a_big_import_and_the_next_read_continues_it(tmp_path: Path) -> None:
    append(tmp_path, *(f"line{i:03}" for i in range(100)))
    got: list[str] = []
    mark = None
    for _ in range(20):
        tail = read_new(str(tmp_path), LOG, mark, max_bytes=100)
        got += [u.decode() for u in tail.units]
        mark = tail.bookmark
        if not tail.more:
            break
    assert got == [f"line{i:03}" for i in range(100)]


def test_a_megabyte_without_a_newline_is_passed_on_in_pieces_not_buffered_whole(tmp_path: Path) -> None:
    _path(tmp_path).write_bytes(b"x" * (3 << 20) + b"\nafter\n")
    tail = read_new(str(tmp_path), LOG, None, max_bytes=16 << 20)
    assert max(len(u) for u in tail.units) <= (1 << 20) + 64 * 1024
    assert b"".join(tail.units[:-1]) == b"x" * (3 << 20) and tail.units[-1] == b"after"
