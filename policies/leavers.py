"""The leavers list (ACC-1): a CSV of `name,account,date_left`, header optional."""

from __future__ import annotations

import csv
import io
from datetime import date

from collectors.errors import HostwardError
from collectors.system.files import read_bytes
from policies.context import Leaver


class LeaversError(HostwardError):
    """The leavers CSV is missing or malformed (line given)."""


def parse_leavers(text: str, source: str = "<leavers>") -> tuple[Leaver, ...]:
    out = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
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
    data = read_bytes("/", path, 4 * 1024 * 1024)
    if data is None:
        raise error(f"{path}: file is missing")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", "replace")


def read_leavers(path: str) -> tuple[Leaver, ...]:
    return parse_leavers(read_csv_text(path, LeaversError), path)
