"""ClamAV signature databases (.cvd / .cld) and scan logs.

A .cvd or .cld file starts with a 512-byte text header, as libclamav's cl_cvdhead() reads it:

    ClamAV-VDB:<build time text>:<version>:<signatures>:<functionality level>:<md5>:<dsig>:
    <builder>:<build epoch>   (one line in the file)

padded with spaces. The last field (seconds since 1970) is what clamd and freshclam use as the
build time; the text field is what `sigtool --info` prints as "Build time".
"""

from __future__ import annotations

import os
import re
from datetime import datetime

from collectors.system.files import SystemReadError, list_dir, read_bytes, read_text
from common.frozen import frozen

HEADER_SIZE = 512
DATABASES = ("main", "daily", "bytecode")


@frozen
class CvdHeader:
    """The header of one ClamAV database file: version, signature count, builder and build time."""

    path: str
    build_time_text: str
    version: int
    signatures: int
    functionality_level: int
    builder: str
    build_epoch: int


def parse_cvd_header(data: bytes, path: str = "") -> CvdHeader:
    """Parse the 512-byte header; raises SystemReadError when it is not a ClamAV database."""
    head = data[:HEADER_SIZE].decode("latin-1").rstrip(" \x00\n")
    parts = head.split(":")
    if len(parts) < 9 or parts[0] != "ClamAV-VDB":
        raise SystemReadError(path, "not a ClamAV database header")
    try:
        return CvdHeader(
            path=path,
            build_time_text=parts[1],
            version=int(parts[2]),
            signatures=int(parts[3]),
            functionality_level=int(parts[4]),
            builder=parts[7],
            build_epoch=int(parts[8].split()[0]),
        )
    except (ValueError, IndexError) as exc:
        raise SystemReadError(path, f"malformed ClamAV header: {exc}") from exc


def read_databases(root: str | os.PathLike[str], directory: str) -> list[CvdHeader]:
    """Headers of main/daily/bytecode .cvd or .cld files in `directory` (the newer of a pair)."""
    out = []
    names = set(list_dir(root, directory))
    for base in DATABASES:
        found = []
        for ext in (".cld", ".cvd"):
            if base + ext in names:
                path = f"{directory.rstrip('/')}/{base}{ext}"
                data = read_bytes(root, path, HEADER_SIZE, head=True)
                if data is not None:
                    found.append(parse_cvd_header(data, path))
        if found:
            out.append(max(found, key=lambda h: h.version))
    return out


_SCAN_END = re.compile(r"^End Date:\s+(\d{4}):(\d\d):(\d\d) (\d\d):(\d\d):(\d\d)", re.M)


def parse_scan_log(text: str) -> list[datetime]:
    """End times of clamscan runs from their SCAN SUMMARY ('End Date:   2026:11:20 10:00:00')."""
    out = []
    for m in _SCAN_END.finditer(text):
        year, month, day, hour, minute, second = (int(g) for g in m.groups())
        out.append(datetime(year, month, day, hour, minute, second))
    return out


def read_last_scan(root: str | os.PathLike[str], paths: tuple[str, ...]) -> tuple[datetime | None, list[str]]:
    """(latest scan end, files read) over the given clamscan log files."""
    latest: datetime | None = None
    read = []
    for path in paths:
        text = read_text(root, path)
        if text is None:
            continue
        read.append(path)
        for when in parse_scan_log(text):
            latest = when if latest is None or when > latest else latest
    return latest, read


def parse_clamd_conf(text: str) -> dict[str, list[str]]:
    """clamd.conf options (repeatable ones keep every value)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(None, 1)
        if len(words) == 2:
            out.setdefault(words[0], []).append(words[1].strip())
    return out
