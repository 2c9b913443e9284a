"""Truncated, oversized or garbage files under `--root` (and CSV inputs) make their checks
`error`: reading nothing, or a part, is no evidence of compliance."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from rootreads_kit import ACCOUNT_CHECKS, PASSWD, SHADOW, audit, build_root, write

from collectors.system import files
from collectors.system.linux import accounts, packages, updates, usb
from policies.assets import AssetsError, read_assets
from policies.leavers import LeaversError, read_leavers


def test_a_2_gb_sparse_passwd_is_refused_unread_not_parsed_as_no_accounts(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    subprocess.run(["truncate", "-s", "2G", str(root / "etc/passwd")], check=True)  # NUL bytes
    results = audit(root, *ACCOUNT_CHECKS)
    for check in ACCOUNT_CHECKS:  # before: "0 accounts ... only root has UID 0": pass
        assert results[check]["status"] == "error", results[check]
        assert "larger than 16777216 bytes" in results[check]["reason"]


def test_nul_garbage_in_passwd_is_binary_content_and_an_error(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    write(root, "/etc/passwd", PASSWD.encode() + b"\0" * 65536)
    results = audit(root, *ACCOUNT_CHECKS)
    for check in ACCOUNT_CHECKS:
        assert results[check]["status"] == "error"
        assert "binary content (a NUL byte at offset" in results[check]["reason"]


def test_a_passwd_mostly_garbage_is_an_error_naming_the_lines(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    garbage = "".join(f"garbage line {i} without fields\n" for i in range(4))
    write(root, "/etc/passwd", PASSWD + garbage)
    found = audit(root, "acc.no_shared_accounts")["acc.no_shared_accounts"]
    assert found["status"] == "error"
    assert "4 of 7 lines do not parse (lines 4, 5, 6, 7)" in found["reason"]


def test_a_few_unparsable_lines_are_reported_in_the_evidence(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    write(root, "/etc/passwd", PASSWD + "torn:x:10\n")
    found = audit(root, "acc.no_shared_accounts")["acc.no_shared_accounts"]
    assert found["status"] == "pass", found["reason"]
    assert found["evidence"]["unparsed_lines"] == {"/etc/passwd": [4]}


def test_a_passwd_without_root_is_not_a_whole_passwd_file(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    write(root, "/etc/passwd", PASSWD.split("\n", 1)[1])
    results = audit(root, *ACCOUNT_CHECKS)
    for check in ACCOUNT_CHECKS:
        assert results[check]["status"] == "error"
        assert "no root account (UID 0)" in results[check]["reason"]


def test_an_empty_or_garbage_shadow_is_an_error(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    write(root, "/etc/shadow", "")
    found = audit(root, "pwd.login_password_set")["pwd.login_password_set"]
    assert found["status"] == "error" and "/etc/shadow: no valid record" in found["reason"]
    write(root, "/etc/shadow", SHADOW.replace(":", ";"))
    found = audit(root, "pwd.login_password_set")["pwd.login_password_set"]
    assert found["status"] == "error" and "no valid record (3 line(s)" in found["reason"]


def test_a_garbage_login_defs_is_an_error_and_a_good_one_passes(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    assert audit(root, "pwd.max_age")["pwd.max_age"]["status"] == "pass"
    write(root, "/etc/login.defs", "PASS_MAX_DAYS 90\n\x7fELF\x02\x01\n%%%\n== ==\n")
    found = audit(root, "pwd.max_age")["pwd.max_age"]
    assert found["status"] == "error"
    assert "/etc/login.defs: 3 of 4 lines do not parse" in found["reason"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "no header and no record"),
        (b"\n\n  \n", "no header and no record"),
        (b"name,account,date_left\n\0\0\0\0", "binary content (a NUL byte at offset 23)"),
        (b'name,account,date_left\n"Li Bo,bob,2026-01-02\n', "not a readable CSV file"),
        (b"name,account,date_left\nLi Bo,bob,yesterday\n", ":2: date_left must be YYYY-MM-DD"),
    ],
)
def test_a_leavers_roster_empty_binary_or_torn_is_an_error(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "leavers.csv"
    path.write_bytes(content)
    with pytest.raises(LeaversError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read_leavers(str(path))


def test_a_leavers_roster_with_a_header_only_is_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "leavers.csv"
    path.write_bytes(b"name,account,date_left\n")
    assert read_leavers(str(path)) == ()


def test_the_roster_through_the_cli_an_oversized_one_errors_a_good_one_passes(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    roster = tmp_path / "leavers.csv"
    config = f"audit:\n  leavers_file: {roster}\n"
    roster.write_bytes(b"name,account,date_left\nLi Bo,bob,2026-01-02\n")
    found = audit(root, "acc.leavers_disabled", config=config)["acc.leavers_disabled"]
    assert found["status"] == "pass", found["reason"]
    with roster.open("ab") as fh:
        fh.truncate(64 * 1024 * 1024)
    found = audit(root, "acc.leavers_disabled", config=config)["acc.leavers_disabled"]
    assert found["status"] == "error"
    assert "larger than 4194304 bytes" in found["reason"]


def test_an_asset_register_empty_or_binary_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "assets.csv"
    path.write_bytes(b"")
    with pytest.raises(AssetsError, match="no header and no record"):
        read_assets(str(path))
    path.write_bytes(b"mac,name\n00:1a:2b:3c:4d:5e,printer\n\0")
    with pytest.raises(AssetsError, match="binary content"):
        read_assets(str(path))
    os.mkfifo(tmp_path / "fifo.csv")
    with pytest.raises(AssetsError, match=r"not a regular file \(fifo\)"):
        read_assets(str(tmp_path / "fifo.csv"))


def test_a_dpkg_status_truncated_or_garbage_is_an_error_not_nothing_installed(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    good = "Package: vim\nStatus: install ok installed\nVersion: 9.1\nDescription: editor\n more\n"
    write(root, "/var/lib/dpkg/status", good)
    assert set(packages.read_installed_packages(root) or {}) == {"vim"}
    write(root, "/var/lib/dpkg/status", "Package: vim\nStat")  # torn mid-stanza
    with pytest.raises(files.Unparsable, match="no installed package recorded"):
        packages.read_installed_packages(root)
    write(root, "/var/lib/dpkg/status", good + "".join(f"junk {i}\n" for i in range(9)))
    with pytest.raises(files.Unparsable, match="9 line"):
        packages.read_installed_packages(root)
    root_sec = "Package: vim\nVersion: 9.2\n" + "@@@\n" * 5
    with pytest.raises(files.Unparsable, match="Packages list"):
        updates._stanzas(root_sec, "/var/lib/apt/lists/x_Packages")


def test_usbguard_rules_of_garbage_prove_no_block(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    write(root, usb.USBGUARD_DAEMON_CONF, "ImplicitPolicyTarget=block\n")
    write(root, usb.USBGUARD_RULES, "block with-interface equals { 08:*:* }\nallow id 1d6b:0002\n")
    assert usb.read_usbguard(root).installed
    write(root, usb.USBGUARD_RULES, "\x7fELF\n%%%%\n{{{\nblock with-interface 08:*:*\n")
    with pytest.raises(files.Unparsable, match="3 of 4 lines are not USBGuard rules"):
        usb.read_usbguard(root)


def test_gzip_and_xz_bombs_are_refused_past_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip
    import lzma

    root = tmp_path / "image"
    write(root, "/var/log/apt/history.log.1.gz", gzip.compress(b"a" * (17 * 1024 * 1024)))
    with pytest.raises(files.FileTooLarge, match="uncompressed"):
        files.read_text(root, "/var/log/apt/history.log.1.gz")
    monkeypatch.setattr(updates, "LIST_LIMIT", 1024 * 1024)  # 512 MiB by default
    with pytest.raises(files.FileTooLarge, match="uncompressed"):
        updates._unxz(lzma.compress(b"\n" * (2 * 1024 * 1024)), "/x.xz")
    assert updates._unxz(lzma.compress(b"Package: a\n"), "/x.xz") == "Package: a\n"
    write(root, "/var/log/apt/history.log.2.gz", b"\x1f\x8b\x08garbage")
    with pytest.raises(files.Unparsable, match="not a readable gzip file"):
        files.read_text(root, "/var/log/apt/history.log.2.gz")


def test_the_account_readers_accept_a_whole_good_file(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    assert [u.name for u in accounts.read_passwd(root).records] == ["root", "daemon", "alice"]
    assert set(accounts.read_shadow(root).records) == {"root", "daemon", "alice"}
    assert accounts.read_login_defs(root).records["PASS_MAX_DAYS"] == "90"


def test_a_leaver_absent_from_passwd_is_removed_only_if_no_line_is_torn(tmp_path: Path) -> None:
    root = build_root(tmp_path)
    roster = tmp_path / "leavers.csv"
    roster.write_bytes(b"name,account,date_left\nBob,bob,2026-01-02\n")
    config = f"audit:\n  leavers_file: {roster}\n"
    found = audit(root, "acc.leavers_disabled", config=config)["acc.leavers_disabled"]
    assert found["status"] == "pass" and found["evidence"]["removed"] == ["bob"]
    write(root, "/etc/passwd", PASSWD + "bob:x:1001:1001:Bob:/home/bob\n")  # torn: 6 fields
    found = audit(root, "acc.leavers_disabled", config=config)["acc.leavers_disabled"]
    assert found["status"] == "error"
    assert "cannot tell whether bob was removed: unparsable /etc/passwd line(s) 4" in found["reason"]
