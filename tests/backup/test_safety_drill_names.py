"""Restore drills handle any byte name (issue 16, item 7): Debian's restic 0.14 spells each
byte of a non-UTF-8 name as U+FFFD in its JSON, which used to make the drill report such a file
"missing", a permanent false red. Real restic, real files with byte names."""

from __future__ import annotations

import os
import random
from pathlib import Path

from backup_kit import Env, write_tree

from backup.drill import restore_pattern, run_drill
from backup.night import run_backup

GBK_DIR = "病历".encode("gbk")  # b"\xb2\xa1\xc0\xfa": a folder named by an old Windows tool
ODD = {
    b"\xff\xfe.txt": b"latin-1 or random bytes\n" * 40,
    GBK_DIR + b"/" + "张三.txt".encode("gbk"): "住院记录\n".encode("gbk") * 60,
    GBK_DIR + b"/ok-ascii.txt": b"ascii name in a GBK folder\n",
    "\ufffd-real.txt".encode(): b"a valid U+FFFD in the name\n",  # spelt like a stray byte
    b"\xfe\xff.txt": b"same length, other bytes\n" * 41,  # matches the first one's pattern too
}


def _write_odd(source: Path) -> None:
    top = os.fsencode(source)
    for rel, data in ODD.items():
        path = top + b"/" + rel
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)


def _drill(env: Env) -> object:
    return run_drill(
        env.plan(), env.runner, env.repo("primary"), sample_files=100, sample_bytes=1 << 30,
        rng=random.Random(7),
    )  # fmt: skip


def test_a_drill_restores_and_compares_files_whose_names_are_not_utf8(env: Env) -> None:
    write_tree(env.source)
    _write_odd(env.source)
    env.init_both()
    assert run_backup(env.plan(), env.runner, timeout=120).status == "ok"
    result = _drill(env)
    assert result.ok, result.error  # type: ignore[attr-defined]
    verdicts = {f.path: f.verdict for f in result.checked}  # type: ignore[attr-defined]
    shown = {os.fsencode(env.source) + b"/" + rel: rel for rel in ODD}
    for full in shown:
        name = full.decode("utf-8", "backslashreplace")
        assert verdicts.get(name) == "same_as_live", (name, verdicts)
    assert "missing" not in verdicts.values()
    assert result.files >= len(ODD) + 5  # type: ignore[attr-defined]


def test_a_live_gbk_file_that_differs_from_its_backup_fails_the_drill(env: Env) -> None:
    """The fail case: same size and mtime, other bytes: the drill must see it through the name."""
    _write_odd(env.source)
    env.init_both()
    assert run_backup(env.plan(), env.runner, timeout=120).status == "ok"
    victim = os.fsencode(env.source) + b"/" + GBK_DIR + b"/" + "张三.txt".encode("gbk")
    st = os.stat(victim)
    with open(victim, "rb") as fh:
        data = bytearray(fh.read())
    data[0] ^= 0xFF
    with open(victim, "wb") as fh:
        fh.write(data)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    result = _drill(env)
    assert not result.ok  # type: ignore[attr-defined]
    bad = {f.path: f.verdict for f in result.checked if f.verdict != "same_as_live"}  # type: ignore[attr-defined]
    assert bad == {victim.decode("utf-8", "backslashreplace"): "live_differs"}


def test_each_replacement_character_of_restics_json_becomes_a_one_byte_wildcard() -> None:
    assert restore_pattern("/srv/\ufffd\ufffd.txt") == "/srv/??.txt"
    assert restore_pattern("/srv/[a]*\ufffd") == "/srv/\\[a\\]\\*?"
