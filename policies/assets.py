"""The asset register for NET-6: which MAC addresses belong to the institution's devices.

A CSV `mac,name,ip` (header optional; UTF-8, UTF-8 with BOM or GB18030 as Excel writes it).
MACs are normalised whatever their spelling: "00-1A-2B-3C-4D-5E" (Windows),
"001a.2b3c.4d5e" (Cisco), "001A2B3C4D5E" and "00:1a:2b:3c:4d:5e" are the same device.
"""

from __future__ import annotations

import re

from common.errors import HostwardError
from policies.leavers import csv_rows, read_csv_text

_HEX = re.compile(r"[^0-9a-f]")


class AssetsError(HostwardError):
    """The register is missing or a line holds no MAC address (line given)."""


def normalise_mac(text: str) -> str | None:
    """ "00:1a:2b:3c:4d:5e", or None when `text` is not a MAC address."""
    low = text.strip().lower()
    digits = re.sub(r"[-:.]", "", low)
    if len(digits) != 12 or _HEX.search(digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def parse_assets(text: str, source: str = "<assets>") -> dict[str, str]:
    """{normalised MAC: device name}."""
    out: dict[str, str] = {}
    for lineno, cells in csv_rows(text, source, AssetsError):
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if lineno == 1 and cells[0].lower() == "mac":
            continue
        mac = normalise_mac(cells[0])
        if mac is None:
            raise AssetsError(f"{source}:{lineno}: {cells[0]!r} is not a MAC address")
        out[mac] = cells[1] if len(cells) > 1 else ""
    return out


def read_assets(path: str) -> dict[str, str]:
    return parse_assets(read_csv_text(path, AssetsError), path)
