"""The Windows path of collectors/system/files.py: no POSIX flag or module is touched there,
and it still refuses what is not a regular file and what is past the cap."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from collectors.system import files

SOURCE = Path(files.__file__).read_text(encoding="utf-8")


def test_the_posix_resolver_is_imported_only_under_posix_and_no_posix_flag_is_used() -> None:
    tree = ast.parse(SOURCE)
    top_imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all("rootfs" not in ast.unparse(n) for n in top_imports)
    guarded = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "POSIX"]
    assert guarded and "rootfs" in ast.unparse(guarded[0])
    flags = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr.startswith("O_")}
    assert flags == set(), flags
    posix_only = {"fcntl", "resource", "pwd", "grp", "termios"}
    assert not [n for n in top_imports if posix_only & {a.name for a in n.names}]


def test_the_windows_path_reads_regular_files_within_the_cap_and_refuses_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "POSIX", False)
    root = tmp_path / "C"
    (root / "ProgramData").mkdir(parents=True)
    (root / "ProgramData" / "a.txt").write_bytes(b"x" * 10)
    assert files.read_bytes(root, "/ProgramData/a.txt", 10) == b"x" * 10
    with pytest.raises(files.FileTooLarge):
        files.read_bytes(root, "/ProgramData/a.txt", 9)
    with pytest.raises(files.NotAFile, match="directory"):
        files.read_bytes(root, "/ProgramData", 9)
    os.mkfifo(root / "ProgramData" / "pipe")  # stands for any non-file: never opened
    with pytest.raises(files.NotAFile, match="not a file"):
        files.read_bytes(root, "/ProgramData/pipe", 9)
    assert files.read_bytes(root, "/ProgramData/none.txt", 9) is None
    assert files.list_dir(root, "/ProgramData") == ["a.txt", "pipe"]
    with pytest.raises(files.Unparsable, match="NUL"):
        (root / "ProgramData" / "b.txt").write_bytes(b"a\0b")
        files.read_text(root, "/ProgramData/b.txt")
