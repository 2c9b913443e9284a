"""The CLI on Windows code pages, through pipes (as under Ansible's win_command or a scheduled
task): Chinese intact on cp936, English and `?` on cp1252, valid lossless JSON on both."""

from __future__ import annotations

import json

from wine_kit import WineBox


def test_collect_on_a_western_console_prints_english_labels(wine_box: WineBox) -> None:
    done = wine_box.hostward("collect", codepage="cp1252")
    assert done.returncode == 0, done.describe()
    lines = done.out("cp1252").splitlines()
    assert lines[0].startswith("Host ") and any(line.startswith("Memory ") for line in lines)
    assert b"Traceback" not in done.stderr


def test_collect_on_a_chinese_console_prints_chinese_labels(wine_box: WineBox) -> None:
    done = wine_box.hostward("collect", codepage="cp936")
    assert done.returncode == 0, done.describe()
    assert "主机 Host" in done.out("cp936")


def test_audit_table_is_english_on_cp1252_and_chinese_on_cp936_by_default(wine_box: WineBox) -> None:
    western = wine_box.hostward("audit", codepage="cp1252")
    chinese = wine_box.hostward("audit", codepage="cp936")
    for done in (western, chinese):
        assert done.returncode in (0, 1, 2), done.describe()  # pass / fail / could not determine
        assert b"Traceback" not in done.stderr, done.describe()
    assert western.out("cp1252").splitlines()[0].startswith("Result")
    assert chinese.out("cp936").splitlines()[0].startswith("结果")


def test_audit_in_chinese_on_a_western_console_replaces_what_cp1252_lacks(wine_box: WineBox) -> None:
    done = wine_box.hostward("audit", "--lang", "zh", codepage="cp1252")
    assert done.returncode in (0, 1, 2), done.describe()
    assert b"Traceback" not in done.stderr
    assert done.out("cp1252").splitlines()[0].startswith("??")


def test_audit_json_is_valid_and_keeps_the_chinese_on_both_code_pages(wine_box: WineBox) -> None:
    western = wine_box.hostward("audit", "--json", codepage="cp1252")
    chinese = wine_box.hostward("audit", "--json", codepage="cp936")
    assert western.returncode in (0, 1, 2), western.describe()
    assert chinese.returncode in (0, 1, 2), chinese.describe()
    assert western.stdout.isascii()  # escaped as \uXXXX: nothing cp1252 cannot carry
    from_western = json.loads(western.out("cp1252"))
    from_chinese = json.loads(chinese.out("cp936"))
    checks = [r["check"] for r in from_western["results"]]
    assert checks == [r["check"] for r in from_chinese["results"]] and checks
    assert from_western["host"]["platform"] == "windows"
    zh_titles = [r["title"]["zh"] for r in from_western["results"]]
    assert zh_titles == [r["title"]["zh"] for r in from_chinese["results"]]
    assert any("\u4e00" <= ch <= "\u9fff" for title in zh_titles for ch in title)
    assert "密码" in chinese.out("cp936")  # readable Chinese where the code page has it


def test_a_character_outside_the_code_page_in_a_config_error_is_replaced_not_fatal(wine_box: WineBox) -> None:
    folder = wine_box.scratch("console-bad-config")
    (folder / "bad.yaml").write_text("version: 1\nhost:\n  role: 办公室😀\n", encoding="utf-8")
    config = wine_box.win_path(folder / "bad.yaml")
    for codepage in ("cp1252", "cp936"):
        done = wine_box.hostward("config", "validate", "-c", config, codepage=codepage)
        assert done.returncode == 2, done.describe()
        assert b"Traceback" not in done.stderr
        assert "host.role" in done.err(codepage)
