"""File names restic's JSON cannot carry (bytes that are not UTF-8, e.g. a GB18030 share) are
taken from restic's raw listing, or marked lossy: never shown as another file's name.

restic's ls/find JSON replaces each byte that is not UTF-8 with U+FFFD (Go's encoding/json, seen
with Debian's restic 0.14 in tests/backup/test_browse_restore.py, which runs the real thing);
these tests feed the matching step the two outputs directly.
"""

from __future__ import annotations

import os

import pytest

from backup.browse import Entry, _patterns, _repaired, _shown

GB = "中文档案".encode("gb18030")


def entry(path: str) -> Entry:
    return Entry(path, "file", 1, 0.0)


def test_a_damaged_name_is_taken_from_the_raw_line_in_the_same_place() -> None:
    raw = [b"/srv/a.txt", "/srv/病历/".encode() + GB + b".txt"]
    # as restic's JSON has it: bad bytes replaced (GB's C4 B5 happens to be valid UTF-8, "ĵ")
    json_names = [entry("/srv/a.txt"), entry(raw[1].decode("utf-8", "replace"))]
    assert "ĵ" in json_names[1].path
    fixed = _repaired(json_names, raw)
    assert fixed[0] == json_names[0]
    assert fixed[1].path == "/srv/病历/中文档案.txt" and fixed[1].encoding == "gb18030"
    assert fixed[1].raw == raw[1] and fixed[1].as_dict()["path_bytes_hex"] == raw[1].hex()


def test_a_raw_listing_that_does_not_line_up_leaves_the_name_marked_lossy() -> None:
    damaged = entry("/srv/" + "\ufffd" * 4 + ".txt")
    shorter = _repaired([entry("/srv/a.txt"), damaged], [b"/srv/a.txt"])  # a name with a newline split
    assert shorter[1].path == damaged.path and shorter[1].encoding == "lossy"
    other = _repaired([damaged], [b"/srv/another-file.txt"])  # same count, another name
    assert other[0].encoding == "lossy" and other[0].raw is None


def test_bytes_neither_utf8_nor_gb18030_are_shown_escaped() -> None:
    assert _shown(b"/srv/\xff\xfe.txt") == ("/srv/\\xff\\xfe.txt", "bytes")
    assert _shown("/srv/病历/".encode() + GB) == ("/srv/病历/中文档案", "gb18030")


@pytest.mark.skipif(os.name != "posix", reason="Windows names are UTF-16: no legacy spelling")
def test_find_also_searches_the_gb18030_spelling_of_a_chinese_pattern() -> None:
    assert _patterns("*.docx") == ("*.docx",)
    both = _patterns("中文*")
    assert both[0] == "中文*" and os.fsencode(both[1]) == "中文".encode("gb18030") + b"*"
