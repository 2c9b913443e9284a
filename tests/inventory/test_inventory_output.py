"""`hostward inventory` output: CSV for Excel (BOM, Chinese intact, no formulas), the table in
Chinese and English, English alone where the console has no Chinese."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from inventory_kit import linux_tree, write

from agent import cli
from agent.commands.inventory_format import format_table
from collectors.inventory.gather import gather
from collectors.system.runner import SubprocessRunner

VENDOR = "联想（北京）有限公司"
CJK = re.compile(r"[\u4e00-\u9fff]")


def run_cli(capfdbinary: pytest.CaptureFixture[bytes], *args: str) -> bytes:
    assert cli.main(["inventory", *args]) == 0
    out: bytes = capfdbinary.readouterr().out
    return out


def test_the_csv_starts_with_a_bom_keeps_chinese_and_has_one_row_per_field(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    root = linux_tree(tmp_path / "root", vendor=VENDOR)
    data = run_cli(capfdbinary, "--csv", "--root", str(root))
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["section 分类", "name 名称", "field 字段", "value 值"]
    assert ["system", "ThinkCentre M720t", "vendor", VENDOR] in rows
    assert ["system", "ThinkCentre M720t", "serial", "PC1ABCDE"] in rows
    assert ["adapters", "enp3s0", "mac", "00:1a:2b:3c:4d:5e"] in rows
    assert ["disks", "nvme0n1", "serial", "S4ENNF0M123456"] in rows
    assert ["software", "openssh-server", "version", "1:9.2p1-2+deb12u3"] in rows
    installed = [r[3] for r in rows if r[:3] == ["software", "adduser", "installed"]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", installed[0])
    unavailable = [r for r in rows if r[0] == "usb_storage"]
    assert unavailable and unavailable[0][2] == "unavailable"  # said, not silently absent


def test_a_value_excel_would_run_as_a_formula_is_quoted_as_text(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    root = linux_tree(tmp_path / "root")
    write(root, "/sys/class/dmi/id/product_name", '=HYPERLINK("http://x","y")\n')
    rows = list(
        csv.reader(io.StringIO(run_cli(capfdbinary, "--csv", "--root", str(root)).decode("utf-8-sig")))
    )
    model = [r for r in rows if r[0] == "system" and r[2] == "model"]
    assert model == [["system", '\'=HYPERLINK("http://x","y")', "model", '\'=HYPERLINK("http://x","y")']]


def test_json_and_table_carry_the_same_register(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    root = linux_tree(tmp_path / "root", vendor=VENDOR)
    payload = json.loads(run_cli(capfdbinary, "--json", "--root", str(root)))
    assert payload["host"] == "ward-pc-07" and payload["live"] is False
    table = format_table(payload, chinese=True)
    for text in ("整机 System", "出厂编号 Serial", "PC1ABCDE", VENDOR, "MAC 地址", "00:1a:2b:3c:4d:5e",
                 "已安装软件 Installed software (2)", "openssh-server", "不可用 unavailable"):  # fmt: skip
        assert text in table, text
    english = format_table(payload, chinese=False)
    assert "Serial" in english and "PC1ABCDE" in english
    assert CJK.findall(english.replace(VENDOR, "")) == []  # labels in English alone


def test_a_section_that_failed_is_shown_as_an_error_in_both_languages(tmp_path: Path) -> None:
    payload = gather(SubprocessRunner(), str(tmp_path)).to_payload()  # an empty offline root
    assert "错误 error" in format_table(payload, chinese=True)
    assert "no package database" in format_table(payload, chinese=False)
