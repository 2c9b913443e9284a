"""Installed packages (dpkg status file) and OS update history (apt history, dpkg.log)."""

from __future__ import annotations

import os
import re
from datetime import datetime

from collectors.system.files import Unparsable, list_dir, read_text
from common.frozen import frozen


@frozen
class Package:
    """One installed package and its version."""

    name: str
    version: str


_FIELD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*:")


def scan_deb822(text: str) -> tuple[list[dict[str, str]], list[int]]:
    """Stanzas of a deb822 file (dpkg status, apt Packages lists) and the numbers of the lines
    that are neither `Field: value`, a continuation (leading space) nor a blank separator."""
    stanzas: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    bad: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if fields:
                stanzas.append(fields)
            fields = {}
        elif line[0] in " \t":
            continue  # a continuation line (Description, Conffiles)
        elif _FIELD.match(line):
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        else:
            bad.append(lineno)
    if fields:
        stanzas.append(fields)
    return stanzas, bad


def parse_dpkg_status(text: str) -> dict[str, Package]:
    """Installed packages ('install ok installed') from /var/lib/dpkg/status."""
    out = {}
    for fields in scan_deb822(text)[0]:
        name = fields.get("Package")
        if name and fields.get("Status", "").endswith(" installed"):
            out[name] = Package(name, fields.get("Version", ""))
    return out


def check_dpkg_status(text: str, path: str = "/var/lib/dpkg/status") -> dict[str, Package]:
    """parse_dpkg_status, raising Unparsable when no package is installed (a system always has
    some: the file is truncated or not dpkg's) or most lines do not parse."""
    stanzas, bad = scan_deb822(text)
    if len(bad) > sum(len(s) for s in stanzas):
        raise Unparsable(path, f"{len(bad)} line(s) do not parse as dpkg fields (first: line {bad[0]})")
    installed = parse_dpkg_status(text)
    if not installed:
        raise Unparsable(path, "no installed package recorded: a truncated or foreign file")
    return installed


def read_installed_packages(root: str | os.PathLike[str] = "/") -> dict[str, Package] | None:
    """None when the system has no dpkg database (not a Debian-family system)."""
    text = read_text(root, "/var/lib/dpkg/status")
    return check_dpkg_status(text) if text is not None else None


@frozen
class UpdateRun:
    """One apt run that upgraded or installed packages; `end` is a naive local time as logged."""

    end: datetime
    commandline: str
    upgraded: int
    failed: bool


_APT_TIME = "%Y-%m-%d  %H:%M:%S"


def parse_apt_history(text: str) -> list[UpdateRun]:
    """Entries of /var/log/apt/history.log that upgraded something."""
    runs = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.strip().splitlines():
            key, _, value = line.partition(": ")
            fields[key] = value.strip()
        upgraded = fields.get("Upgrade", "")
        if not upgraded or "End-Date" not in fields:
            continue
        try:
            end = datetime.strptime(fields["End-Date"], _APT_TIME)
        except ValueError:
            continue
        count = len(re.findall(r"\), ", upgraded + ", "))
        runs.append(UpdateRun(end, fields.get("Commandline", ""), count, "Error" in fields))
    return runs


_FULL_VERBS = frozenset(
    {"upgrade", "dist-upgrade", "full-upgrade", "update", "distro-sync", "upgrade-minimal"}
)
_VALUE_OPTIONS = frozenset({"-o", "-c", "-t", "--option", "--config-file", "--target-release", "--setopt"})


def is_full_upgrade(commandline: str) -> bool:
    """True for a command line that upgrades the whole system: `apt-get -y upgrade`,
    `apt full-upgrade`, `dnf upgrade --security`, unattended-upgrades; False for one that names
    packages (`apt-get install --only-upgrade openssl`, `dnf upgrade kernel`) or is unknown."""
    tokens = commandline.split()
    if not tokens:
        return False
    if tokens[0].rsplit("/", 1)[-1] in ("unattended-upgrade", "unattended-upgrades"):
        return True
    rest = tokens[1:]
    verb_at = None
    skip = False
    for i, token in enumerate(rest):
        if skip:
            skip = False
        elif token in _VALUE_OPTIONS:
            skip = True
        elif not token.startswith("-"):
            verb_at = i
            break
    if verb_at is None or rest[verb_at] not in _FULL_VERBS:
        return False
    return all(t.startswith("-") for t in rest[verb_at + 1 :])


_DPKG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) upgrade (\S+) ")


def parse_dpkg_log(text: str) -> list[datetime]:
    """Times of `upgrade` actions in /var/log/dpkg.log."""
    out = []
    for line in text.splitlines():
        match = _DPKG_LINE.match(line)
        if match:
            out.append(datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S"))
    return out


@frozen
class UpdateHistory:
    """When anything, and the whole system, was last upgraded, from how many runs in which logs."""

    last_upgrade: datetime | None  # naive local time of the last successful upgrade of anything
    sources: tuple[str, ...]  # log files read
    runs: int
    last_full_upgrade: datetime | None = None  # the last apt run that upgraded the whole system


def read_update_history(root: str | os.PathLike[str] = "/") -> UpdateHistory:
    """The last successful package upgrade from apt's history and dpkg's log (rotated ones too)."""
    latest: datetime | None = None
    full: datetime | None = None
    sources = []
    runs = 0
    for name in list_dir(root, "/var/log/apt"):
        if name.startswith("history.log"):
            text = read_text(root, f"/var/log/apt/{name}")
            if text is None:
                continue
            sources.append(f"/var/log/apt/{name}")
            for run in parse_apt_history(text):
                runs += 1
                if not run.failed and (latest is None or run.end > latest):
                    latest = run.end
                if not run.failed and is_full_upgrade(run.commandline) and (full is None or run.end > full):
                    full = run.end
    for name in list_dir(root, "/var/log"):
        if name.startswith("dpkg.log"):
            text = read_text(root, f"/var/log/{name}")
            if text is None:
                continue
            sources.append(f"/var/log/{name}")
            for when in parse_dpkg_log(text):
                if latest is None or when > latest:
                    latest = when
    return UpdateHistory(latest, tuple(sources), runs, full)
