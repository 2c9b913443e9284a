"""ClamAV database headers are read as ClamAV's own sigtool reads them."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from policies_kit import cvd_header

from collectors.system.files import SystemReadError
from collectors.system.linux.clamav import parse_cvd_header, read_databases


def make_cvd(path: Path, build: datetime, version: int) -> None:
    body = path.parent / "body.tar.gz"
    info = path.parent / "daily.info"
    info.write_text("ClamAV-VDB:test\n")
    with tarfile.open(body, "w:gz") as tar:
        tar.add(info, arcname="daily.info")
    path.write_bytes(cvd_header(build, version=version, sigs=2071234, builder="raynman") + body.read_bytes())


@pytest.mark.skipif(shutil.which("sigtool") is None, reason="ClamAV's sigtool is not installed")
def test_header_fields_match_sigtool_info(tmp_path: Path) -> None:
    build = datetime(2026, 11, 21, 7, 53, tzinfo=UTC)
    cvd = tmp_path / "daily.cvd"
    make_cvd(cvd, build, 27103)
    out = subprocess.run(["sigtool", "--info", str(cvd)], capture_output=True, text=True, timeout=30).stdout
    fields = dict(re.findall(r"^([A-Za-z ]+): (.*)$", out, re.M))
    header = parse_cvd_header(cvd.read_bytes(), str(cvd))
    assert int(fields["Version"]) == header.version == 27103
    assert int(fields["Signatures"]) == header.signatures == 2071234
    assert fields["Builder"] == header.builder == "raynman"
    assert int(fields["Functionality level"]) == header.functionality_level
    # sigtool shows the text time with ':' for ClamAV's 'HH-MM'; both name the same minute.
    assert fields["Build time"] == header.build_time_text.replace("-", ":")
    assert header.build_epoch == int(build.timestamp())


def test_cld_file_header_is_read_like_cvd(tmp_path: Path) -> None:
    build = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    (tmp_path / "db").mkdir()
    make_cvd(tmp_path / "db" / "daily.cld", build, 27104)
    (headers,) = read_databases(tmp_path, "/db")
    assert headers.path == "/db/daily.cld"
    assert headers.build_epoch == int(build.timestamp())


def test_non_clamav_file_is_rejected() -> None:
    with pytest.raises(SystemReadError):
        parse_cvd_header(b"PK\x03\x04" + b" " * 508, "daily.cvd")
