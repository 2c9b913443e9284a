"""Access events from auth.log lines (rsyslog) or journal entries (`journalctl -o json`).

One message, one event, never two for the same act:
- sshd `Accepted <method> for U from H` login; `Failed <method> for [invalid user] U from H`
  failed login; `pam_unix(sshd:session): session closed for user U` logout;
- console and display managers: pam_unix(login|gdm-password|lightdm|sddm|xrdp-sesman:session)
  opened/closed = login/logout, their `:auth` authentication failure = failed login, and
  login's `FAILED LOGIN (n) on 'tty' FOR 'U'`;
- sudo: `U : TTY=... ; USER=T ; COMMAND=/path args` privilege use (the program only: arguments
  may hold passwords); `incorrect password attempts` / `NOT in sudoers` a failed one;
- su: pam_unix(su|su-l:session) opened for user T by U = privilege use; its auth failure a
  failed login.
sshd's own pam_unix auth lines and sudo's pam lines repeat the lines above and are not counted.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

from collectors.access import AccessEvent

AUTH_LOGS = ("/var/log/auth.log", "/var/log/secure")  # Debian/Ubuntu, RHEL/SUSE
# journalctl's filter for the auth and authpriv facilities (the auth.log of a journal-only host).
JOURNAL_MATCH = ("SYSLOG_FACILITY=4", "SYSLOG_FACILITY=10")

_SYSLOG = re.compile(
    r"^(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    r" (?P<host>\S+) (?P<ident>[^\s\[:]+)(?:\[\d+\])?: (?P<msg>.*)$"
)
_DESKTOP = r"login|gdm-password|gdm-autologin|lightdm|sddm|xrdp-sesman|cockpit"
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("sshd", re.compile(r"^Accepted (?P<method>\S+) for (?P<user>\S+) from (?P<host>\S+)")),
    ("sshd", re.compile(r"^Failed (?P<method>\S+) for (?:invalid user )?(?P<user>\S*) from (?P<host>\S+)")),
    ("sshd", re.compile(r"^pam_unix\(sshd:session\): session closed for user (?P<user>[^\s(]+)")),
    (
        "*",
        re.compile(
            rf"^pam_unix\((?P<svc>{_DESKTOP}):session\): session (?P<act>opened|closed) "
            r"for user (?P<user>[^\s(]+)"
        ),
    ),
    (
        "*",
        re.compile(
            rf"^pam_unix\((?P<svc>{_DESKTOP}|su|su-l):auth\): authentication failure;"
            r"(?:.*\bruser=(?P<ruser>\S*))?.*?\buser=(?P<user>\S+)"
        ),
    ),
    (
        "login",
        re.compile(
            r"^FAILED LOGIN \(\d+\) on '(?P<line>[^']*)'(?: FROM '(?P<host>[^']*)')? "
            r"FOR '(?P<user>[^']*)'"
        ),
    ),
    (
        "sudo",
        re.compile(
            r"^\s*(?P<user>\S+) : (?P<fail>.*?(?:incorrect password attempts?|NOT in sudoers|"
            r"command not allowed).*?; )?(?:.*?; )?TTY=(?P<tty>\S+) ; PWD=.*? ; "
            r"USER=(?P<target>\S+) ;.*?COMMAND=(?P<cmd>\S+)"
        ),
    ),
    (
        "*",
        re.compile(
            r"^pam_unix\((?P<svc>su|su-l):session\): session opened for user (?P<target>[^\s(]+)"
            r"(?:\(uid=\d+\))? by (?P<user>[^\s(]*)"
        ),
    ),
)


def parse_message(ident: str, msg: str, ts: float, source: str) -> AccessEvent | None:
    """The event one syslog message from program `ident` records, or None."""
    for who, rule in _RULES:
        if who not in ("*", ident):
            continue
        m = rule.match(msg)
        if m is None:
            continue
        g = {k: v for k, v in m.groupdict().items() if v is not None}
        if who == "sshd":
            kind = (
                "login"
                if msg.startswith("Accepted")
                else "failed_login"
                if msg.startswith("Failed")
                else "logout"
            )
            detail = {"method": g["method"]} if "method" in g else {}
            return AccessEvent(ts, kind, g["user"], source, "sshd", g.get("host", ""), detail)
        if who == "login":
            return AccessEvent(
                ts, "failed_login", g["user"], source, "login", g.get("host", ""), {"line": g["line"]}
            )
        if who == "sudo":
            detail = {"target": g["target"], "program": g["cmd"].rsplit("/", 1)[-1], "tty": g["tty"]}
            kind = "failed_login" if "fail" in g else "privilege"
            return AccessEvent(ts, kind, g["user"], source, "sudo", "", detail)
        if "act" in g:
            kind = "login" if g["act"] == "opened" else "logout"
            return AccessEvent(ts, kind, g["user"], source, g["svc"])
        if "target" in g:
            return AccessEvent(ts, "privilege", g["user"], source, "su", "", {"target": g["target"]})
        user = g.get("ruser") or g["user"]
        detail = {"target": g["user"]} if g.get("ruser") else {}
        return AccessEvent(ts, "failed_login", user, source, g["svc"], "", detail)
    return None


def syslog_time(stamp: str, reference: float) -> float | None:
    """Unix time of a syslog stamp: ISO 8601 (rsyslog's high precision) or `Mmm dd hh:mm:ss`
    (local time, no year: the year that puts it at most a day after `reference`)."""
    try:
        if stamp[0].isdigit():
            parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            return parsed.timestamp() if parsed.tzinfo else time.mktime(parsed.timetuple())
        year = time.localtime(reference).tm_year
        for y in (year, year - 1):
            when = time.mktime(time.strptime(f"{y} {stamp}", "%Y %b %d %H:%M:%S"))
            if when <= reference + 86400:
                return when
    except (ValueError, OverflowError):
        return None
    return None


def parse_line(line: str, reference: float, source: str = "auth.log") -> AccessEvent | bool | None:
    """The event of one auth.log line; None for a line that records none; False for a line
    that is not syslog at all (counted as malformed)."""
    m = _SYSLOG.match(line)
    if m is None:
        return False
    ts = syslog_time(m.group("ts"), reference)
    if ts is None:
        return False
    return parse_message(m.group("ident"), m.group("msg"), ts, source)


def _field(entry: dict[str, Any], name: str) -> str:
    value = entry.get(name, "")
    if isinstance(value, list):  # journald gives non-UTF-8 fields as byte arrays
        value = bytes(v for v in value if isinstance(v, int) and 0 <= v < 256).decode("utf-8", "replace")
    return str(value)


def parse_journal_line(line: bytes) -> tuple[AccessEvent | None, str] | None:
    """(event or None, cursor) of one `journalctl -o json` line; None when it is not JSON or
    has no cursor (malformed)."""
    try:
        entry = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("__CURSOR"), str):
        return None
    try:
        ts = int(_field(entry, "__REALTIME_TIMESTAMP")) / 1e6
    except ValueError:
        return None
    ident = _field(entry, "SYSLOG_IDENTIFIER")
    return parse_message(ident, _field(entry, "MESSAGE"), ts, "journal"), entry["__CURSOR"]
