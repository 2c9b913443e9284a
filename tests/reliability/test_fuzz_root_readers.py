"""Fuzz the readers of an offline root (`--root`): passwd, shadow, login.defs, and the CSV
inputs (leavers roster, asset register), with arbitrary bytes and with mixes of good lines,
garbage and binary. Two properties:

- a reader returns records or raises the project's typed read error (SystemReadError for
  files under a root, LeaversError/AssetsError for the CSV inputs), nothing else;
- a check never passes unless the file holds what the pass claims (an independent oracle
  below: a valid root line, a valid PASS_MAX_DAYS line...): empty or garbage content is
  never a pass, and no probe crashes ("probe failed").

Example counts come from the Hypothesis profile (tests/conftest.py), never from here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rootreads_kit import LOGIN_DEFS, PASSWD, SHADOW, TODAY, build_root

from collectors.system.files import SystemReadError
from collectors.system.linux import accounts
from collectors.system.runner import SubprocessRunner
from policies.assets import AssetsError, read_assets
from policies.context import Target
from policies.engine import run_audit
from policies.leavers import LeaversError, read_leavers
from policies.library import Library, load_library
from policies.result import CheckResult

# The profile's own settings (example count, deadline) stay; this adds only the health check
# for the per-test temp root, which each example rewrites.
FUZZ = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture]
)


def line_mix(good: list[str]) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, or lines drawn from good ones, text garbage and binary snippets."""
    line = st.one_of(
        st.sampled_from(good),
        st.text(max_size=40).map(lambda t: t.replace("\n", " ")),
        st.binary(max_size=24).map(lambda b: b.decode("latin-1").replace("\n", " ")),
    )
    mixed = st.lists(line, max_size=12).map(lambda ls: "".join(f"{x}\n" for x in ls).encode("utf-8"))
    return st.one_of(st.binary(max_size=1024), mixed)


@pytest.fixture(scope="module")
def library() -> Library:
    lib, problems = load_library()
    assert problems == []
    return lib


def run_check(library: Library, root: Path, check: str) -> CheckResult:
    target = Target("pc-01", "office_pc", "linux", str(root), False)
    report = run_audit(library, target, SubprocessRunner(), only=[check], timeout=10)
    result = report.results[0]
    assert not result.reason.startswith("probe failed"), result.reason  # only typed errors
    return result


def lines_of(data: bytes) -> list[str]:
    return [] if b"\0" in data else data.decode("utf-8", "replace").splitlines()


ROOT_LINE = re.compile(r"root:[^:]*:0:\d+:[^:]*:[^:]*:[^:]*")
GOOD_PASSWD = [*PASSWD.splitlines(), "bob:x:1001:1001:Bob:/home/bob:/bin/bash", "#comment", ""]


@FUZZ
@given(data=line_mix(GOOD_PASSWD))
def test_passwd_of_any_bytes_gives_records_or_a_typed_error_never_a_pass_from_garbage(
    tmp_path: Path, library: Library, data: bytes
) -> None:
    root = build_root(tmp_path)
    (root / "etc/passwd").write_bytes(data)
    try:
        found = accounts.read_passwd(root)
    except SystemReadError:
        found = None
    if found is not None:
        assert any(u.name == "root" and u.uid == 0 for u in found.records)
        assert len(found.unparsed) <= len(found.records)
    has_root = any(ROOT_LINE.fullmatch(line) for line in lines_of(data))
    for check in ("acc.no_shared_accounts", "pwd.login_password_set"):
        result = run_check(library, root, check)
        if result.status == "pass":
            assert has_root and found is not None, (check, data)
        if found is None:
            assert result.status == "error"


SHADOW_LINE = re.compile(r"[^:]+:[^:]*:(-?\d*:){6}[^:]*")
GOOD_SHADOW = [*SHADOW.splitlines(), f"bob:$6$x$y:{TODAY}:0:30:7:::", "root::1:0:1:7:::"]


@FUZZ
@given(data=line_mix(GOOD_SHADOW))
def test_shadow_of_any_bytes_gives_records_or_a_typed_error_never_a_pass_from_garbage(
    tmp_path: Path, library: Library, data: bytes
) -> None:
    root = build_root(tmp_path)
    (root / "etc/shadow").write_bytes(data)
    try:
        found = accounts.read_shadow(root)
    except SystemReadError:
        found = None
    if found is not None:
        assert found.records and len(found.unparsed) <= len(found.records)
    valid = [line.split(":", 1)[0] for line in lines_of(data) if SHADOW_LINE.fullmatch(line)]
    result = run_check(library, root, "pwd.login_password_set")
    if result.status == "pass":  # both interactive accounts (root, alice) were found
        assert {"root", "alice"} <= set(valid), data
    if found is None:
        assert result.status == "error"


MAX_DAYS_LINE = re.compile(r"\s*PASS_MAX_DAYS\s+(\d+)\s*")
GOOD_DEFS = [*LOGIN_DEFS.splitlines(), "PASS_MAX_DAYS 30", "PASS_MAX_DAYS 99999", "UMASK 022", "# x"]


@FUZZ
@given(data=line_mix(GOOD_DEFS))
def test_login_defs_of_any_bytes_never_passes_without_a_valid_max_days(
    tmp_path: Path, library: Library, data: bytes
) -> None:
    root = build_root(tmp_path)
    (root / "etc/login.defs").write_bytes(data)
    try:
        found = accounts.read_login_defs(root)
    except SystemReadError:
        found = None
    if found is not None:
        assert len(found.unparsed) <= len(found.records)
    result = run_check(library, root, "pwd.max_age")
    if found is None:
        assert result.status == "error"
    if result.status == "pass":
        values = [int(m.group(1)) for line in lines_of(data) if (m := MAX_DAYS_LINE.fullmatch(line))]
        assert values and values[-1] <= 90, data


GOOD_ROSTER = ["name,account,date_left", "Li Bo,bob,2026-01-02", "王芳,wangfang,2025-12-31", "# note"]
GOOD_ASSETS = ["mac,name,ip", "00:1a:2b:3c:4d:5e,printer,10.0.0.9", "001A.2B3C.4D5F,nas", ""]


@FUZZ
@given(data=line_mix(GOOD_ROSTER), assets=line_mix(GOOD_ASSETS))
def test_csv_inputs_of_any_bytes_give_rows_or_their_typed_error(
    tmp_path: Path, data: bytes, assets: bytes
) -> None:
    roster, register = tmp_path / "leavers.csv", tmp_path / "assets.csv"
    roster.write_bytes(data)
    register.write_bytes(assets)
    try:
        leavers = read_leavers(str(roster))
    except LeaversError:
        leavers = None
    if leavers is not None:  # something was there: never an empty file read as "no leavers"
        assert b"\0" not in data and data.strip()
        assert all(lv.account == lv.account.strip() for lv in leavers)
    try:
        macs = read_assets(str(register))
    except AssetsError:
        macs = None
    if macs is not None:
        assert b"\0" not in assets and assets.strip()
        assert all(re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", mac) for mac in macs)
