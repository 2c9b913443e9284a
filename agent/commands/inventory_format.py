"""The asset register as a table (zh/en labels) and as CSV for Excel.

CSV layout: one row per field of each item, `section, name, field, value` (long form): the
sections have different fields (a disk has a serial and a size, a program a version and an
install date), so one wide table would be mostly empty columns; the long form filters and
pivots in Excel as is, and a section that could not be read is a row `field = error` with its
reason rather than a silent gap. The file is UTF-8 with a BOM (Excel then opens Chinese
intact); times are local "YYYY-MM-DD HH:MM:SS", sizes in bytes. A value that Excel would take
for a formula (starting with = + - @, e.g. a program named "=HYPERLINK(...)" by whoever wrote
the registry key) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import time
import unicodedata
from typing import Any

from agent.commands.collect_cmd import human_bytes
from agent.logs import escape_controls
from collectors.inventory.model import NAME_FIELD, SECTIONS

BOM = "\ufeff"
# Columns shown per section in the table, in order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "system": ("vendor", "model", "serial", "bios_version"),
    "os": ("name", "version", "build"),
    "cpu": ("model", "logical_cpus"),
    "memory": ("total_bytes",),
    "disks": ("name", "vendor", "model", "serial", "size_bytes", "removable"),
    "adapters": ("name", "mac", "physical", "description"),
    "software": ("name", "version", "installed", "publisher"),
    "usb_storage": ("vendor", "product", "serial", "first_seen", "last_seen"),
    "devices": ("device", "klass", "vendor", "model", "serial", "name", "software_rev"),
}
LABELS: dict[str, tuple[str, str]] = {
    "vendor": ("厂商", "Vendor"), "model": ("型号", "Model"), "serial": ("出厂编号", "Serial"),
    "bios_version": ("BIOS", "BIOS"), "name": ("名称", "Name"), "version": ("版本", "Version"),
    "build": ("内部版本", "Build"), "logical_cpus": ("逻辑处理器", "Logical CPUs"),
    "total_bytes": ("容量", "Total"), "size_bytes": ("容量", "Size"), "removable": ("可移动", "Removable"),
    "mac": ("MAC 地址", "MAC address"), "physical": ("物理网卡", "Physical"),
    "description": ("说明", "Description"), "installed": ("安装日期", "Installed"),
    "publisher": ("发布者", "Publisher"), "product": ("产品", "Product"),
    "first_seen": ("首次发现", "First seen"), "last_seen": ("最后发现", "Last seen"),
    "device": ("设备", "Device"), "klass": ("类别", "Class"), "software_rev": ("软件版本", "Software"),
}  # fmt: skip
_TIMES = ("installed", "first_seen", "last_seen")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _time(value: Any, date_only: bool = False) -> str:
    if not isinstance(value, int | float) or not value:
        return ""
    return time.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M:%S", time.localtime(value))


def _cell(field: str, value: Any, *, table: bool, chinese: bool = False) -> str:
    if field in _TIMES:
        return _time(value, date_only=table and field == "installed")
    if isinstance(value, bool):
        word = "yes" if value else "no"
        return f"{'是' if value else '否'} {word}" if table and chinese else word
    if table and field in ("total_bytes", "size_bytes") and isinstance(value, int):
        return human_bytes(value)
    return "" if value is None else str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _label(key: str, chinese: bool) -> str:
    zh, en = LABELS.get(key, (key, key))
    return f"{zh} {en}" if chinese and zh != en else en


def format_table(payload: dict[str, Any], chinese: bool = True) -> str:
    """The register as one block per section: a heading, then aligned columns."""
    title = "资产登记 Asset register" if chinese else "Asset register"
    head = f"{title}: {payload.get('host', '')}  ({_time(payload.get('taken'))})"
    lines = [escape_controls(head)]
    sections = payload.get("sections") or {}
    for name, (zh, en) in SECTIONS.items():
        entry = sections.get(name)
        if not isinstance(entry, dict):
            continue
        items = [i for i in entry.get("items") or [] if isinstance(i, dict)]
        lines.append("")
        lines.append(f"{zh} {en} ({len(items)})" if chinese else f"{en} ({len(items)})")
        reason = entry.get("reason") or {}
        if entry.get("status") != "ok":
            word = ("错误 error" if chinese else "error") if entry.get("status") == "error" else (
                "不可用 unavailable" if chinese else "unavailable")  # fmt: skip
            text = reason.get("zh") if chinese else reason.get("en")
            lines.append(f"  {word}: {escape_controls(str(text or ''))}")
        if not items:
            continue
        columns = COLUMNS[name]
        rows = [[_label(c, chinese) for c in columns]]
        rows += [
            [escape_controls(_cell(c, i.get(c), table=True, chinese=chinese)) for c in columns] for i in items
        ]
        widths = [max(_width(r[k]) for r in rows) for k in range(len(columns))]
        for row in rows:
            cells = [c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True)]
            lines.append(("  " + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def _safe(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def format_csv(payload: dict[str, Any]) -> str:
    """The register as CSV text starting with a BOM (write it UTF-8 encoded)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section 分类", "name 名称", "field 字段", "value 值"])
    writer.writerow(["host", "", "host", _safe(str(payload.get("host", "")))])
    writer.writerow(["host", "", "taken", _time(payload.get("taken"))])
    sections = payload.get("sections") or {}
    for name in SECTIONS:
        entry = sections.get(name)
        if not isinstance(entry, dict):
            continue
        if entry.get("status") != "ok":
            reason = entry.get("reason") or {}
            text = f"{reason.get('en', '')} / {reason.get('zh', '')}"
            writer.writerow([name, "", str(entry.get("status")), _safe(text)])
        for item in entry.get("items") or []:
            if not isinstance(item, dict):
                continue
            label = _safe(_cell(NAME_FIELD[name], item.get(NAME_FIELD[name]), table=False))
            for field, value in item.items():
                writer.writerow([name, label, field, _safe(_cell(field, value, table=False))])
    return BOM + out.getvalue()
