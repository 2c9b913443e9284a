"""OS updates on RPM systems (dnf history database) and pending security updates (apt, dnf).

PATCH-1 asks how long ago the system was last patched and how many security updates wait.
dnf keeps its history in SQLite (dnf 4: /var/lib/dnf/history.sqlite; dnf 5:
/usr/lib/sysimage/libdnf5/transaction_history.sqlite); it is opened read-only, never locked
for writing. Pending updates are computed from the package lists already on disk: apt's lists
of the *-security archives compared with dpkg's status (dpkg's version order; fast enough for
every audit, and works on a mounted image) and `dnf --cacheonly updateinfo list --security`
(the metadata cache only; on the live system only: never `--installroot` on an offline image).
No network is used.
"""

from __future__ import annotations

import lzma
import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from collectors.system.evidence import NoEvidence
from collectors.system.files import (
    FileTooLarge,
    SystemReadError,
    Unparsable,
    host_path,
    list_dir,
    read_bytes,
    read_text,
)
from collectors.system.linux.packages import check_dpkg_status, is_full_upgrade, scan_deb822
from collectors.system.runner import Runner
from common.errors import CommandError
from common.frozen import frozen

DNF_HISTORY = ("/var/lib/dnf/history.sqlite", "/usr/lib/sysimage/libdnf5/transaction_history.sqlite")
PKG_TIMEOUT = 60.0
LIST_LIMIT = 512 * 1024 * 1024
# dnf 4 (libdnf): trans.state DONE=1, trans_item.action UPGRADE=6 (older swdb: trans.done=1).
# dnf 5: trans.state_id Ok=2, trans_item.action_id Upgrade=2.
_DNF4 = ("state", 1, "action", 6)
_DNF4_OLD = ("done", 1, "action", 6)
_DNF5 = ("state_id", 2, "action_id", 2)


@frozen
class DnfHistory:
    """What dnf's history database says: the last upgrade and the last full one, and how many
    transactions succeeded or failed."""

    path: str
    last_upgrade: datetime | None  # aware (UTC): dnf stores unix time
    transactions: int  # successful transactions that upgraded at least one package
    failed: int  # transactions that did not complete
    last_full_upgrade: datetime | None = None  # the last one whose command upgraded everything


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}


def read_dnf_history(root: str | os.PathLike[str] = "/") -> DnfHistory | None:
    """The last successful upgrade transaction; None when no dnf history database exists."""
    for path in DNF_HISTORY:
        full = host_path(root, path)  # links resolved inside the root; a regular file
        if full is None:
            continue
        # Offline, SQLite opens no -wal/-shm/-journal sibling by name (one could be a link
        # out of the image): the image is read as it stands on disk.
        offline = "" if os.fspath(root) in ("/", "") else "&immutable=1"
        try:
            db = sqlite3.connect(f"{Path(full).as_uri()}?mode=ro{offline}", uri=True, timeout=2.0)
        except sqlite3.Error as exc:
            raise SystemReadError(path, f"cannot open: {exc}") from exc
        try:
            return _query_history(db, path)
        except sqlite3.Error as exc:
            raise SystemReadError(path, f"cannot read: {exc}") from exc
        finally:
            db.close()
    return None


def _dnf_command(cmd: object) -> str:
    """dnf 4 stores the arguments ("upgrade -y"), dnf 5 the whole command ("dnf5 upgrade")."""
    text = str(cmd or "").strip()
    first = text.split(" ", 1)[0].rsplit("/", 1)[-1]
    return text if first in ("dnf", "dnf5", "dnf-3", "yum") else f"dnf {text}"


def _query_history(db: sqlite3.Connection, path: str) -> DnfHistory:
    trans, items = _columns(db, "trans"), _columns(db, "trans_item")
    schema = next((v for v in (_DNF5, _DNF4, _DNF4_OLD) if v[0] in trans and v[2] in items), None)
    if schema is None:
        raise SystemReadError(path, "unknown dnf history schema")
    state_col, ok, action_col, upgrade = schema
    # Column names come from the fixed schema table above, never from data.
    query = (
        f"SELECT max(t.dt_end), count(DISTINCT t.id) FROM trans t WHERE t.{state_col} = ? AND "  # noqa: S608
        f"EXISTS (SELECT 1 FROM trans_item i WHERE i.trans_id = t.id AND i.{action_col} = ?)"
    )
    row = db.execute(query, (ok, upgrade)).fetchone()
    failed = db.execute(f"SELECT count(*) FROM trans WHERE {state_col} != ?", (ok,)).fetchone()  # noqa: S608
    last = datetime.fromtimestamp(int(row[0]), UTC) if row and row[0] else None
    command = next((c for c in ("cmdline", "description") if c in trans), None)
    full = None
    if command is not None:
        rows = db.execute(
            f"SELECT t.dt_end, t.{command} FROM trans t WHERE t.{state_col} = ? AND "  # noqa: S608
            f"EXISTS (SELECT 1 FROM trans_item i WHERE i.trans_id = t.id AND i.{action_col} = ?)",
            (ok, upgrade),
        ).fetchall()
        ends = [int(end) for end, cmd in rows if end and is_full_upgrade(_dnf_command(cmd))]
        full = datetime.fromtimestamp(max(ends), UTC) if ends else None
    return DnfHistory(path, last, int(row[1] or 0), int(failed[0] or 0), full)


@frozen
class PendingUpdates:
    """Updates not yet installed: the security ones by name, and how many others."""

    tool: str  # "apt" or "dnf"
    security: tuple[str, ...]  # package names (apt) or advisory ids (dnf)
    other: int  # pending non-security updates


def _run(runner: Runner, argv: tuple[str, ...]) -> str:
    try:
        result = runner.run(argv, timeout=PKG_TIMEOUT)
    except CommandError as exc:
        raise SystemReadError(argv[0], str(exc)) from exc
    if not result.ok:
        raise SystemReadError(argv[0], f"exit {result.returncode}: {result.stderr_tail()}")
    return result.stdout.decode("utf-8", "replace")


def _order(ch: str) -> int:
    if ch == "~":
        return -1
    if ch.isalpha():
        return ord(ch)
    return ord(ch) + 256


def _compare_part(a: str, b: str) -> int:
    """dpkg's verrevcmp: alternate non-digit runs (with ~ sorting first) and numeric runs."""
    i = j = 0
    while i < len(a) or j < len(b):
        diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return ac - bc
            i, j = i + 1, j + 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not diff:
                diff = ord(a[i]) - ord(b[j])
            i, j = i + 1, j + 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if diff:
            return diff
    return 0


def _split_version(v: str) -> tuple[int, str, str]:
    epoch, _, rest = v.partition(":") if ":" in v else ("0", "", v)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return int(epoch or 0), upstream, revision


def compare_versions(a: str, b: str) -> int:
    """<0, 0, >0 as Debian version `a` sorts before, with, after `b` (dpkg --compare-versions)."""
    ea, ua, ra = _split_version(a)
    eb, ub, rb = _split_version(b)
    if ea != eb:
        return ea - eb
    return _compare_part(ua, ub) or _compare_part(ra, rb)


LISTS = "/var/lib/apt/lists"
_PACKAGES = re.compile(r"^.+_dists_.+_binary-[^_]+_Packages(\.\w+)?$")


def _is_security_release(text: str) -> bool:
    fields = dict(line.split(": ", 1) for line in text.splitlines()[:40] if ": " in line)
    suite = fields.get("Suite", "") + " " + fields.get("Codename", "")
    return "-security" in suite or "security" in fields.get("Label", "").lower()


def _list_text(runner: Runner, root: str | os.PathLike[str], name: str) -> str | None:
    path = f"{LISTS}/{name}"
    if name.endswith((".lz4", ".zst")):  # compressions the standard library lacks: apt's own helper
        full = host_path(root, path)
        return None if full is None else _run(runner, ("/usr/lib/apt/apt-helper", "cat-file", full))
    if name.endswith(".xz"):
        data = read_bytes(root, path, LIST_LIMIT)
        return None if data is None else _unxz(data, path)
    return read_text(root, path, limit=LIST_LIMIT)  # plain or .gz


def _unxz(data: bytes, path: str) -> str:
    """Decompressed within LIST_LIMIT: a small bomb never fills the memory."""
    try:
        out = lzma.LZMADecompressor().decompress(data, max_length=LIST_LIMIT + 1)
    except lzma.LZMAError as exc:
        raise SystemReadError(path, f"not a readable xz file: {exc}") from exc
    if len(out) > LIST_LIMIT:
        raise FileTooLarge(path, f"larger than {LIST_LIMIT} bytes uncompressed; not judged on a part of it")
    return out.decode("utf-8", "replace")


def _release_of(name: str, names: list[str]) -> str | None:
    """The (In)Release file of a Packages list: the longest one whose prefix the list shares
    ("..._dists_bookworm-security_main_binary-amd64_Packages" -> "..._dists_bookworm-security_InRelease";
    a suite with a slash, "buster/updates", is written "buster_updates" and still found)."""
    releases = [n for n in names if n.endswith(("_InRelease", "_Release"))]
    owners = [r for r in releases if name.startswith(r.rsplit("_", 1)[0] + "_")]
    return max(owners, key=len) if owners else None


def read_apt_pending(runner: Runner, root: str | os.PathLike[str] = "/") -> PendingUpdates:
    """Installed packages with a newer version in a *-security archive's local list (no network)."""
    status = read_text(root, "/var/lib/dpkg/status")
    if status is None:
        raise SystemReadError("/var/lib/dpkg/status", "no dpkg status")
    installed = {p.name: p.version for p in check_dpkg_status(status).values()}
    names = list_dir(root, LISTS)
    security: set[str] = set()
    lists_read = 0
    for name in names:
        release = _release_of(name, names) if _PACKAGES.match(name) else None
        if release is None or not _is_security_release(read_text(root, f"{LISTS}/{release}") or ""):
            continue
        lists_read += 1
        for pkg, version in _stanzas(_list_text(runner, root, name) or "", f"{LISTS}/{name}"):
            have = installed.get(pkg)
            if have is not None and compare_versions(version, have) > 0:
                security.add(pkg)
    if not lists_read:
        raise SystemReadError(LISTS, "no package list of a security archive (apt update never ran?)")
    return PendingUpdates("apt", tuple(sorted(security)), 0)


def _stanzas(text: str, path: str) -> list[tuple[str, str]]:
    """(package, version) of a Packages list; one mostly of lines that do not parse (a torn
    download, a wrong file) raises Unparsable rather than count as "nothing pending"."""
    stanzas, bad = scan_deb822(text)
    if len(bad) > sum(len(s) for s in stanzas):
        raise Unparsable(path, f"{len(bad)} line(s) do not parse as a Packages list (first: line {bad[0]})")
    return [(s["Package"], s.get("Version", "")) for s in stanzas if s.get("Package")]


DNF_SECURITY_ARGV = (
    "dnf",
    "--cacheonly",
    "-q",
    "updateinfo",
    "list",
    "--security",
    "--available",
)
_ADVISORY = re.compile(r"^(\S+-\d{4}[:-]\S+)\s+(\S+)\s+(\S+)")


def parse_dnf_security(text: str) -> PendingUpdates:
    """`RHSA-2026:1234 Important/Sec. openssl-1:3.0.7-27.el9.x86_64` lines."""
    advisories = {m.group(1) for line in text.splitlines() if (m := _ADVISORY.match(line.strip()))}
    return PendingUpdates("dnf", tuple(sorted(advisories)), 0)


DNF_CACHES = ("/var/cache/dnf", "/var/cache/libdnf5")


def dnf_updateinfo_cached(root: str | os.PathLike[str] = "/") -> list[str]:
    """Advisory metadata (repodata/*updateinfo*) in dnf's cache: what `--cacheonly` searches."""
    found = []
    for cache in DNF_CACHES:
        for repo in list_dir(root, cache):
            found += [
                f"{cache}/{repo}/repodata/{name}"
                for name in list_dir(root, f"{cache}/{repo}/repodata")
                if "updateinfo" in name
            ]
    return found


def read_dnf_pending(runner: Runner, root: str | os.PathLike[str] = "/") -> PendingUpdates:
    """Security advisories dnf's cache knows are pending. dnf prints nothing both for "none"
    and for "nothing cached to search", so the cache must hold advisory metadata first.

    Only on the live system: `dnf --installroot=IMAGE` reads the image's configuration, cache
    and rpm database through the image's own links, which may point onto this host, so for an
    offline image the answer is `error`, and dnf is never run against it."""
    if os.fspath(root) not in ("/", ""):
        raise NoEvidence(
            "dnf",
            "pending dnf updates cannot be determined safely for an offline image "
            "(dnf --installroot would follow the image's links onto this host)",
            "无法安全地确定离线镜像中待安装的 dnf 更新（dnf --installroot 会沿镜像中的链接访问本机）",
        )
    if not dnf_updateinfo_cached(root):
        raise NoEvidence(
            "dnf",
            "no advisory metadata (updateinfo) in the dnf cache to search: dnf makecache never ran?",
            "dnf 缓存中没有可搜索的安全公告元数据（updateinfo）：从未运行过 dnf makecache？",
        )
    return parse_dnf_security(_run(runner, DNF_SECURITY_ARGV))
