"""The leavers list (ACC-1): a CSV of `name,account,date_left`, header optional."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

from collectors.system.files import SystemReadError, read_bytes
from common.errors import HostwardError
from common.text import utf8_else_gb18030
from policies.context import Leaver

MAX_CSV_BYTES = 4 * 1024 * 1024


class LeaversError(HostwardError):
    """The leavers CSV is missing or malformed (line given)."""


def csv_rows(text: str, source: str, error: type[HostwardError]) -> Iterator[tuple[int, list[str]]]:
    """(line, stripped cells) of each CSV row. A file with no row at all (empty, or only blank
    lines) is not an empty list but a truncated or wrong file: `error`, as is one the csv
    module cannot read (a NUL byte, an unterminated quote at the end of the file)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = 0
    try:
        for row in reader:
            cells = [c.strip() for c in row]
            if cells and any(cells):
                rows += 1
            yield reader.line_num, cells
    except csv.Error as exc:
        raise error(f"{source}:{reader.line_num}: not a readable CSV file: {exc}") from exc
    if rows == 0:
        raise error(f"{source}: no header and no record (an empty or truncated file)")


def parse_leavers(text: str, source: str = "<leavers>") -> tuple[Leaver, ...]:
    out = []
    for lineno, cells in csv_rows(text, source, LeaversError):
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if lineno == 1 and [c.lower() for c in cells[:3]] == ["name", "account", "date_left"]:
            continue
        if len(cells) < 3:
            raise LeaversError(f"{source}:{lineno}: expected name,account,date_left")
        try:
            left = date.fromisoformat(cells[2])
        except ValueError as exc:
            raise LeaversError(f"{source}:{lineno}: date_left must be YYYY-MM-DD") from exc
        out.append(Leaver(cells[0], cells[1], left))
    return tuple(out)


def read_csv_text(path: str, error: type[HostwardError]) -> str:
    """Excel writes CSV as UTF-8 with a BOM or, on Chinese Windows, as GB18030: both are read."""
    try:
        data = read_bytes("/", path, MAX_CSV_BYTES)
    except SystemReadError as exc:  # unreadable, a FIFO, larger than the cap: never a part
        raise error(str(exc)) from exc
    if data is None:
        raise error(f"{path}: file is missing")
    if b"\0" in data:
        raise error(f"{path}: binary content (a NUL byte at offset {data.index(0)}) in a CSV file")
    return utf8_else_gb18030(data, bom=True)


def read_leavers(path: str) -> tuple[Leaver, ...]:
    return parse_leavers(read_csv_text(path, LeaversError), path)
