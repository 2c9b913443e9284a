"""Installed software with version and install date, for the asset register (ROOM-5).

- dpkg: the status file gives name, version and architecture; dpkg records no install time,
  so the date is the modification time of the package's file list
  (/var/lib/dpkg/info/<name>[:<arch>].list), which dpkg rewrites when it installs or upgrades
  the package: it is the date of the last install or upgrade.
- rpm: `rpm --root ROOT -qa --queryformat ...` (the rpm database is a binary or SQLite file
  only rpm reads safely); INSTALLTIME is the install time of the installed version.
"""

from __future__ import annotations

import os

from collectors.system.files import SystemReadError, Unparsable, exists, list_dir, read_text, stat_in
from collectors.system.linux.packages import check_dpkg_status, scan_deb822
from collectors.system.runner import Runner
from common.errors import CommandError
from common.frozen import frozen

RPM_TIMEOUT = 60.0
RPM_FORMAT = "%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\n"
RPM_DATABASES = ("/var/lib/rpm", "/usr/lib/sysimage/rpm")


@frozen
class Software:
    """One installed program: version, install time, where it was listed, publisher and architecture."""

    name: str
    version: str
    installed: float | None  # Unix time of the install (or last upgrade); None when unknown
    source: str  # "dpkg", "rpm", "registry"
    publisher: str = ""
    arch: str = ""


def _architectures(text: str) -> dict[str, str]:
    return {
        f["Package"]: f.get("Architecture", "")
        for f in scan_deb822(text)[0]
        if f.get("Package") and f.get("Status", "").endswith(" installed")
    }


def read_dpkg_software(root: str | os.PathLike[str] = "/") -> list[Software] | None:
    """Installed dpkg packages; None when there is no dpkg database. Unparsable when the
    status file lists no installed package (a truncated or foreign file)."""
    text = read_text(root, "/var/lib/dpkg/status")
    if text is None:
        return None
    packages = check_dpkg_status(text)
    arches = _architectures(text)
    lists = {
        name.removesuffix(".list") for name in list_dir(root, "/var/lib/dpkg/info") if name.endswith(".list")
    }
    out = []
    for name, pkg in sorted(packages.items()):
        arch = arches.get(name, "")
        stem = f"{name}:{arch}" if f"{name}:{arch}" in lists else name if name in lists else ""
        st = stat_in(root, f"/var/lib/dpkg/info/{stem}.list") if stem else None
        out.append(Software(name, pkg.version, st.st_mtime if st else None, "dpkg", "", arch))
    return out


def parse_rpm_query(text: str, where: str = "rpm -qa") -> list[Software]:
    """Lines NAME<TAB>VERSION-RELEASE<TAB>ARCH<TAB>INSTALLTIME; Unparsable when most do not parse."""
    out, bad = [], 0
    for line in text.splitlines():
        cells = line.split("\t")
        if len(cells) != 4 or not cells[0]:
            bad += bool(line.strip())
            continue
        name, version, arch, when = cells
        installed = float(when) if when.isdigit() else None
        out.append(Software(name, version, installed, "rpm", "", "" if arch == "(none)" else arch))
    if bad > len(out):
        raise Unparsable(where, f"{bad} line(s) of rpm output do not parse")
    return sorted(out, key=lambda s: (s.name, s.version))


def has_rpm_database(root: str | os.PathLike[str] = "/") -> bool:
    return any(exists(root, p) for p in RPM_DATABASES)


def read_rpm_software(runner: Runner, root: str | os.PathLike[str] = "/") -> list[Software]:
    """Installed rpm packages, read by rpm itself (`--root` for an image)."""
    argv = ("rpm", "--root", os.path.abspath(os.fspath(root)), "-qa", "--queryformat", RPM_FORMAT)
    try:
        result = runner.run(argv, timeout=RPM_TIMEOUT)
    except CommandError as exc:
        raise SystemReadError("rpm -qa", str(exc)) from exc
    if not result.ok or result.truncated:
        why = (
            "timed out"
            if result.timed_out
            else "output cut"
            if result.truncated
            else f"exit {result.returncode}"
        )
        raise SystemReadError("rpm -qa", f"{why}: {result.stderr_tail()}")
    return parse_rpm_query(result.stdout.decode("utf-8", "replace"))


def read_software(runner: Runner, root: str | os.PathLike[str] = "/") -> list[Software] | None:
    """dpkg's packages, else rpm's; None when the system has neither database."""
    found = read_dpkg_software(root)
    if found is not None:
        return found
    if has_rpm_database(root):
        return read_rpm_software(runner, root)
    return None
