"""PATCH-1 beyond apt history: dnf's history database, pending security updates (apt lists,
dnf cache, Windows Update Agent), and "tool missing" is an error, never a pass."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from policies_kit import FIXTURES, NOW, SECURITY_LIST, AuditFn, RecordedRunner, write

from collectors.system.evidence import NoEvidence
from collectors.system.files import SystemReadError
from collectors.system.linux import updates
from collectors.system.runner import CommandResult, SubprocessRunner
from collectors.system.windows.powershell import POWERSHELL
from collectors.system.windows.readers import SCRIPTS

DNF4 = """
CREATE TABLE trans (id INTEGER PRIMARY KEY AUTOINCREMENT, dt_begin INTEGER NOT NULL, dt_end INTEGER,
  rpmdb_version_begin TEXT, rpmdb_version_end TEXT, releasever TEXT NOT NULL, user_id INTEGER NOT NULL,
  cmdline TEXT, state INTEGER NOT NULL, comment TEXT);
CREATE TABLE trans_item (id INTEGER PRIMARY KEY AUTOINCREMENT, trans_id INTEGER, item_id INTEGER,
  repo_id INTEGER, action INTEGER NOT NULL, reason INTEGER NOT NULL, state INTEGER NOT NULL);
"""
DNF5 = """
CREATE TABLE trans (id INTEGER PRIMARY KEY AUTOINCREMENT, dt_begin INTEGER NOT NULL, dt_end INTEGER,
  rpmdb_version_begin TEXT, rpmdb_version_end TEXT, releasever TEXT NOT NULL, user_id INTEGER NOT NULL,
  description TEXT, comment TEXT, state_id INTEGER);
CREATE TABLE trans_item (id INTEGER PRIMARY KEY AUTOINCREMENT, trans_id INTEGER, item_id INTEGER,
  repo_id INTEGER, action_id INTEGER, reason_id INTEGER, state_id INTEGER);
"""


def dnf_root(
    root: Path, schema: str, transactions: list[tuple[int, int, int]], dnf5: bool = False, command: str = ""
) -> Path:
    """A RHEL-like root: no dpkg, a dnf history of (days ago, transaction state, item action),
    each transaction's command line as dnf records it (`command`, default a full upgrade)."""
    for path in ("/var/lib/dpkg/status", "/var/log/apt/history.log"):
        (root / path.lstrip("/")).unlink(missing_ok=True)
    # dnf makecache leaves each repository's advisories here (the name carries a checksum).
    write(root, "/var/cache/dnf/baseos-044cae74d71fe9ea/repodata/4a5b8c-updateinfo.xml.zst", b"\x28\xb5")
    path = root / (updates.DNF_HISTORY[1] if dnf5 else updates.DNF_HISTORY[0]).lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(schema)
    if dnf5:
        add_trans = (
            "INSERT INTO trans (id, dt_begin, dt_end, releasever, user_id, state_id, description) "
            "VALUES (?,?,?,?,?,?,?)"
        )
        add_item = (
            "INSERT INTO trans_item (trans_id, item_id, repo_id, action_id, reason_id, state_id) "
            "VALUES (?,1,1,?,2,2)"
        )
    else:
        add_trans = (
            "INSERT INTO trans (id, dt_begin, dt_end, releasever, user_id, state, cmdline) "
            "VALUES (?,?,?,?,?,?,?)"
        )
        add_item = (
            "INSERT INTO trans_item (trans_id, item_id, repo_id, action, reason, state) VALUES (?,1,1,?,2,1)"
        )
    for n, (days, state, action) in enumerate(transactions, start=1):
        end = int((NOW - timedelta(days=days)).timestamp())
        cmd = command or ("dnf5 upgrade -y" if dnf5 else "upgrade -y")
        db.execute(add_trans, (n, end - 60, end, "9", 0, state, cmd))
        db.execute(add_item, (n, action))
    db.commit()
    db.close()
    return path


def test_dnf_history_recent_upgrade_passes(linux_root: Path, check: AuditFn) -> None:
    dnf_root(linux_root, DNF4, [(60, 1, 6), (3, 1, 6), (1, 2, 6), (0, 1, 1)])  # failed and install-only later
    result = check(linux_root, "patch.os_updated")
    assert result.status == "pass", result.reason
    assert 2.9 < result.evidence["age_days"] < 3.1
    assert result.evidence["dnf_transactions"] == {"upgrades": 2, "failed": 1}
    assert "/var/lib/dnf/history.sqlite" in result.evidence["sources"]


def test_dnf_history_only_old_upgrades_fails(linux_root: Path, check: AuditFn) -> None:
    dnf_root(linux_root, DNF4, [(45, 1, 6), (2, 2, 6)])  # the recent one did not complete
    result = check(linux_root, "patch.os_updated")
    assert result.status == "fail"
    assert "45 days ago" in result.reason and "45 天前" in result.reason_zh


def test_a_dnf_upgrade_of_named_packages_is_not_a_full_upgrade(linux_root: Path, check: AuditFn) -> None:
    dnf_root(linux_root, DNF4, [(3, 1, 6)], command="upgrade openssl")
    result = check(linux_root, "patch.os_updated")
    assert result.status == "fail" and "no full upgrade" in result.reason
    assert result.evidence["last_upgrade"] is not None and result.evidence["last_full_upgrade"] is None


def test_dnf5_history_is_read_too(linux_root: Path, check: AuditFn) -> None:
    dnf_root(linux_root, DNF5, [(5, 2, 2)], dnf5=True)  # state Ok=2, action Upgrade=2
    assert check(linux_root, "patch.os_updated").status == "pass"
    dnf_root(linux_root, DNF5, [(5, 3, 2)], dnf5=True)  # state Error=3
    assert check(linux_root, "patch.os_updated").status == "fail"


def test_unknown_dnf_schema_is_an_error(linux_root: Path, check: AuditFn) -> None:
    dnf_root(linux_root, "CREATE TABLE trans (id INTEGER); CREATE TABLE trans_item (id INTEGER);", [])
    result = check(linux_root, "patch.os_updated")
    assert result.status == "error" and "unknown dnf history schema" in result.reason


def security_list(root: Path, packages: str, compress: str = "") -> None:
    name = SECURITY_LIST + "_main_binary-amd64_Packages"
    (root / name.lstrip("/")).unlink()
    if compress == "gz":
        write(root, name + ".gz", gzip.compress(packages.encode()))
    else:
        write(root, name, packages)


def test_no_pending_security_update_passes(linux_root: Path, check: AuditFn) -> None:
    result = check(linux_root, "patch.security_updates")
    assert result.status == "pass", result.reason
    assert result.evidence["pending_security"] == 0 and result.evidence["tool"] == "apt"


def test_pending_security_update_fails_with_the_packages(linux_root: Path, check: AuditFn) -> None:
    security_list(linux_root, "Package: clamav\nVersion: 1.4.3+deb12u1\n\nPackage: nmap\nVersion: 9\n", "gz")
    result = check(linux_root, "patch.security_updates")
    assert result.status == "fail"
    assert result.evidence["security_updates"] == ["clamav"]  # nmap is not installed
    assert "1 security update(s) pending" in result.reason and "安全更新" in result.reason_zh


def test_pending_count_matches_a_real_apt_simulation_of_the_same_root(
    linux_root: Path, check: AuditFn
) -> None:
    """apt-get itself, pointed at the fixture root, is the oracle (no network, no lock)."""
    if shutil.which("apt-get") is None:
        pytest.skip("apt-get not installed")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    security_list(
        linux_root,
        "Package: clamav\nVersion: 1.4.3+deb12u1\nArchitecture: all\n"
        "Filename: pool/c/clamav.deb\nSize: 1\n\n",
    )
    (linux_root / "etc/apt/preferences.d").mkdir(parents=True)
    status = linux_root / "var/lib/dpkg/status"
    status.write_text(status.read_text().replace("Version: ", "Architecture: all\nVersion: "))
    src = linux_root / SECURITY_LIST.lstrip("/")
    lists = src.parent
    (lists / f"{src.name}_main_binary-amd64_Packages").rename(
        lists / f"{src.name}_main_binary-{arch}_Packages"
    )
    write(
        linux_root,
        "/etc/apt/sources.list",
        "deb http://deb.debian.org/debian-security bookworm-security main\n",
    )
    out = subprocess.run(
        [
            "apt-get",
            "-s",
            "-o",
            f"Dir={linux_root}",
            "-o",
            f"Dir::State::status={status}",
            "-o",
            "Dir::Cache::pkgcache=",
            "-o",
            "Dir::Cache::srcpkgcache=",
            "-o",
            "Debug::NoLocking=1",
            "upgrade",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    apt_says = sorted(line.split()[1] for line in out.stdout.splitlines() if line.startswith("Inst "))
    result = check(linux_root, "patch.security_updates")
    assert result.evidence["security_updates"] == apt_says == ["clamav"]


def test_debian_version_order_matches_dpkg() -> None:
    pairs = [
        ("1.0", "1.0-1"),
        ("1:0.9", "2.0"),
        ("1.0~rc1", "1.0"),
        ("2.36-9+deb12u4", "2.36-9+deb12u10"),
        ("1.2a", "1.2"),
        ("3.0.11-1~deb12u2", "3.0.15-1~deb12u1"),
        ("1.0", "1.0"),
    ]
    for a, b in pairs:
        dpkg_lt = subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0
        assert (updates.compare_versions(a, b) < 0) is dpkg_lt, (a, b)


def test_no_security_list_is_an_error_not_a_pass(linux_root: Path, check: AuditFn) -> None:
    shutil.rmtree(linux_root / "var/lib/apt/lists")
    result = check(linux_root, "patch.security_updates")
    assert result.status == "error" and "apt update never ran" in result.reason


DNF_SECURITY = b"""RHSA-2026:8123 Important/Sec. openssl-libs-1:3.0.7-29.el9_4.x86_64
RHSA-2026:8123 Important/Sec. openssl-1:3.0.7-29.el9_4.x86_64
RHSA-2026:8200 Moderate/Sec.  curl-7.76.1-31.el9.x86_64
"""


def live_dnf_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """This (Debian) machine as a live dnf host whose cache holds advisory metadata; dnf itself
    is replayed from recorded output."""
    cached = ["/var/cache/dnf/baseos-044cae74d71fe9ea/repodata/4a5b8c-updateinfo.xml.zst"]
    monkeypatch.setattr(updates, "dnf_updateinfo_cached", lambda root: cached)


def test_dnf_pending_security_advisories_are_listed_and_none_is_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live_dnf_cache(monkeypatch)
    argv = updates.DNF_SECURITY_ARGV
    pending = updates.read_dnf_pending(RecordedRunner({argv: DNF_SECURITY}), "/")
    assert pending.security == ("RHSA-2026:8123", "RHSA-2026:8200")
    assert updates.read_dnf_pending(RecordedRunner({argv: b""}), "/").security == ()


def test_dnf_is_never_run_against_an_offline_image(linux_root: Path, check: AuditFn) -> None:
    dnf_root(linux_root, DNF4, [(3, 1, 6)])
    argv = updates.DNF_SECURITY_ARGV
    runner = RecordedRunner({argv: DNF_SECURITY, ("dnf", f"--installroot={linux_root}", *argv[1:]): b""})
    result = check(linux_root, "patch.security_updates", runner=runner)
    assert result.status == "error"
    assert "cannot be determined safely for an offline image" in result.reason
    assert "离线镜像" in result.reason_zh
    assert not [call for call in runner.calls if call[0] == "dnf"]


def test_dnf_printing_nothing_without_cached_advisories_is_an_error() -> None:
    assert not updates.dnf_updateinfo_cached("/")  # this machine: no dnf cache at all
    clean = RecordedRunner({updates.DNF_SECURITY_ARGV: b""})
    with pytest.raises(NoEvidence) as caught:
        updates.read_dnf_pending(clean, "/")
    assert "no advisory metadata (updateinfo)" in caught.value.en and "updateinfo" in caught.value.zh
    assert clean.calls == []


def test_dnf_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    live_dnf_cache(monkeypatch)
    with pytest.raises(SystemReadError):
        updates.read_dnf_pending(RecordedRunner({}), "/")  # no dnf program


def win_pending(case: str | CommandResult) -> RecordedRunner:
    data = (
        case
        if isinstance(case, CommandResult)
        else (FIXTURES / f"windows/pending_updates/{case}.json").read_bytes()
    )
    return RecordedRunner({(*POWERSHELL, SCRIPTS["pending_updates"]): data})


def test_windows_pending_security_update_fails_and_definitions_only_pass(check: AuditFn) -> None:
    result = check("C:\\", "patch.security_updates", platform="windows", runner=win_pending("security"))
    assert result.status == "fail"
    assert result.evidence["security_updates"] == ["KB5046613"] and result.evidence["pending_other"] == 1
    for case in ("other_only", "none"):
        assert (
            check("C:\\", "patch.security_updates", platform="windows", runner=win_pending(case)).status
            == "pass"
        )


def test_windows_update_agent_failure_is_an_error(check: AuditFn) -> None:
    broken = CommandResult((), 1, b"", b"Exception from HRESULT: 0x8024402C", 0.1)
    result = check("C:\\", "patch.security_updates", platform="windows", runner=win_pending(broken))
    assert result.status == "error"


def test_live_debian_host_pending_count_is_fast() -> None:
    """The same reader on this machine's own lists: well inside the audit's 1 s budget."""
    if not Path("/var/lib/dpkg/status").exists() or not any(
        "security" in n for n in (p.name for p in Path("/var/lib/apt/lists").glob("*"))
    ):
        pytest.skip("no Debian security lists on this machine")
    import time

    started = time.monotonic()
    pending = updates.read_apt_pending(SubprocessRunner())
    assert time.monotonic() - started < 3.0  # generous: the machine is shared
    assert pending.tool == "apt"


def test_no_package_history_at_all_is_an_error(linux_root: Path, check: AuditFn) -> None:
    (linux_root / "var/log/apt/history.log").unlink()
    result = check(linux_root, "patch.os_updated")
    assert result.status == "error" and "no package history" in result.reason
    write(linux_root, "/var/log/dpkg.log", "2026-01-01 10:00:00 install vim:amd64 <none> 9.1\n")
    assert check(linux_root, "patch.os_updated").status == "fail"  # a history without upgrades


def test_packages_list_finds_its_release_file() -> None:
    names = [
        "security.debian.org_dists_buster_updates_InRelease",
        "security.debian.org_dists_buster_updates_main_binary-amd64_Packages",
        "deb.debian.org_debian_dists_buster_InRelease",
        "deb.debian.org_debian_dists_buster_main_binary-amd64_Packages.lz4",
    ]
    assert updates._release_of(names[1], names) == names[0]
    assert updates._release_of(names[3], names) == names[2]
    assert updates._release_of("x_dists_y_main_binary-amd64_Packages", names) is None
