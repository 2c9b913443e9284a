"""Windows paths in the config, the default state directory %ProgramData%\\hostward, `run --once`
and `journal verify`, on Windows CPython under Wine."""

from __future__ import annotations

import json
from pathlib import Path

from testkit import free_port
from wine_kit import WineBox


def _write_config(box: WineBox, name: str, state_line: str) -> Path:
    folder = box.scratch(name)
    text = f"version: 1\n{state_line}\nexporter: {{listen: '127.0.0.1:{free_port()}'}}\n"
    (folder / "hostward.yaml").write_text(text, encoding="utf-8")
    return folder


def test_config_default_on_windows_names_windows_paths(wine_box: WineBox) -> None:
    done = wine_box.hostward("config", "default")
    assert done.returncode == 0, done.describe()
    text = done.out("cp1252")
    assert "Empty: C:\\ProgramData\\hostward (%ProgramData%\\hostward)." in text
    assert "cert_file: C:\\ProgramData\\hostward\\tls.crt" in text
    assert "/var/lib/hostward" not in text and "/etc/hostward/tls.crt" not in text
    assert 'mountpoints_exclude: []' in text


def test_the_default_state_directory_on_windows_is_programdata_hostward(wine_box: WineBox) -> None:
    done = wine_box.hostward("journal", "verify")
    assert done.returncode == 0, done.describe()
    assert done.out("cp1252").startswith("C:\\ProgramData\\hostward\\journal.jsonl: intact")
    # `journal verify` only reads: on a fresh PC it creates nothing, not even the directory.
    assert not wine_box.unix_path(r"C:\ProgramData\hostward").exists()


def test_windows_paths_in_single_and_double_quotes_validate(wine_box: WineBox) -> None:
    single = _write_config(wine_box, "cfg-single", "state_dir: 'C:\\hostward-tests\\cfg-single\\state'")
    double = _write_config(wine_box, "cfg-double", 'state_dir: "C:\\\\hostward-tests\\\\cfg-double\\\\state"')
    for folder in (single, double):
        config = wine_box.win_path(folder / "hostward.yaml")
        done = wine_box.hostward("config", "validate", "-c", config)
        assert done.returncode == 0, done.describe()
        assert done.out("cp1252").strip() == f"{config}: valid"


def test_a_bad_escape_in_a_double_quoted_windows_path_is_a_clear_error(wine_box: WineBox) -> None:
    folder = _write_config(wine_box, "cfg-bad", 'state_dir: "C:\\ProgramData\\hostward"')
    done = wine_box.hostward("config", "validate", "-c", wine_box.win_path(folder / "hostward.yaml"))
    assert done.returncode == 2, done.describe()
    assert b"Traceback" not in done.stderr and b"hostward.yaml" in done.stderr


def test_run_once_with_a_windows_state_dir_then_the_journal_verifies_and_catches_tampering(
    wine_box: WineBox,
) -> None:
    folder = _write_config(wine_box, "run-once", "state_dir: 'C:\\hostward-tests\\run-once\\state'")
    config = wine_box.win_path(folder / "hostward.yaml")
    done = wine_box.hostward("run", "--once", "-c", config, timeout=240)
    lines = done.out("cp1252").splitlines()
    assert any(line.startswith("collect: ok") for line in lines), done.describe()
    assert (folder / "state" / "state.db").is_file()
    verify = wine_box.hostward("journal", "verify", "-c", config)
    assert verify.returncode == 0, verify.describe()
    assert "intact" in verify.out("cp1252") and " 0 entries" not in verify.out("cp1252")
    journal = folder / "state" / "journal.jsonl"
    entries = journal.read_bytes().splitlines(keepends=True)
    first = json.loads(entries[0])
    first["kind"] = first["kind"] + ".forged"
    forged = json.dumps(first, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    journal.write_bytes(forged + b"".join(entries[1:]))
    tampered = wine_box.hostward("journal", "verify", "-c", config)
    assert tampered.returncode == 1, tampered.describe()
