"""Parsers of the access sources: wtmp/btmp records (struct utmp, built with the same layout
login writes, plus malformed ones), auth.log lines in the formats rsyslog writes (traditional
and ISO 8601; sshd, login, sudo and su messages as those programs word them), journal JSON
entries as `journalctl -o json` prints them, and the Windows Security events.

The Windows input is hand-written: it has the shape of our own script's envelope (Oldest,
Newest, Events with RecordId, Id, TimeCreated and the EventData as name/value pairs); the
EventData names and values follow Microsoft's event schema as seen in a real 4624 event posted
in wazuh/wazuh pull request #17880 (SubjectUserSid S-1-5-18, TargetUserName SYSTEM, LogonType 5)."""

from __future__ import annotations

import json
import time

import pytest

from collectors.access import AccessEvent
from collectors.system.linux import authlog, wtmp
from collectors.system.windows import security_log
from common.errors import HostwardError

T = 1764900000.0  # 2025-12-05 02:00:00 UTC


def test_wtmp_logins_and_logouts_are_read_and_a_logout_gets_the_user_of_its_line() -> None:
    records = [
        wtmp.record(wtmp.USER_PROCESS, "alice", "pts/0", "192.0.2.7", T),
        wtmp.record(wtmp.DEAD_PROCESS, "", "pts/0", "", T + 60),
    ]
    events, bad = wtmp.wtmp_events(records, {})
    assert bad == 0
    assert [(e.kind, e.user, e.service, e.host) for e in events] == [
        ("login", "alice", "pts/0", "192.0.2.7"),
        ("logout", "alice", "pts/0", ""),
    ]
    assert events[1].ts == T + 60


def test_malformed_utmp_records_are_counted_and_skipped_not_guessed() -> None:
    good = wtmp.record(wtmp.LOGIN_PROCESS, "root", "ssh:notty", "198.51.100.9", T)
    bad_type = bytearray(good)
    bad_type[0] = 77  # no such ut_type
    future = wtmp.record(wtmp.LOGIN_PROCESS, "root", "tty1", "", time.time() + 10 * 86400)
    garbage = bytes(range(256)) + bytes(128)
    events, bad = wtmp.btmp_events([good, bytes(bad_type), future, garbage])
    assert [(e.kind, e.user, e.host) for e in events] == [("failed_login", "root", "198.51.100.9")]
    assert bad == 3


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "2025-12-05T02:00:00.123456+00:00 pc1 sshd[811]: Accepted password for alice from 192.0.2.7 "
            "port 50022 ssh2",
            ("login", "alice", "sshd", "192.0.2.7"),
        ),
        (
            "2025-12-05T02:00:00+00:00 pc1 sshd[812]: Failed password for invalid user admin from "
            "203.0.113.5 port 4242 ssh2",
            ("failed_login", "admin", "sshd", "203.0.113.5"),
        ),
        (
            "2025-12-05T02:00:00+00:00 pc1 sshd[811]: pam_unix(sshd:session): session closed for user alice",
            ("logout", "alice", "sshd", ""),
        ),
        (
            "2025-12-05T02:00:00+00:00 pc1 login[900]: FAILED LOGIN (1) on '/dev/tty2' FOR 'bob', "
            "Authentication failure",
            ("failed_login", "bob", "login", ""),
        ),
        (
            "2025-12-05T02:00:00+00:00 pc1 login[901]: pam_unix(login:session): session opened for user "
            "bob(uid=1001) by LOGIN(uid=0)",
            ("login", "bob", "login", ""),
        ),
        (
            "2025-12-05T02:00:00+00:00 pc1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
            "COMMAND=/usr/bin/mysql -pSECRET",
            ("privilege", "alice", "sudo", ""),
        ),
        (
            "2025-12-05T02:00:00+00:00 pc1 sudo:  mallory : user NOT in sudoers ; TTY=pts/1 ; "
            "PWD=/home/mallory ; USER=root ; COMMAND=/bin/bash",
            ("failed_login", "mallory", "sudo", ""),
        ),
        (
            "2025-12-05T02:00:00+00:00 pc1 su[1200]: pam_unix(su-l:session): session opened for user "
            "root(uid=0) by alice(uid=1000)",
            ("privilege", "alice", "su", ""),
        ),
        (
            "2025-12-05T02:00:00+00:00 pc1 su[1201]: pam_unix(su:auth): authentication failure; "
            "logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root",
            ("failed_login", "alice", "su", ""),
        ),
    ],
)
def test_auth_log_lines_become_one_event_each(line: str, expected: tuple[str, str, str, str]) -> None:
    event = authlog.parse_line(line, T)
    assert isinstance(event, AccessEvent)
    assert (event.kind, event.user, event.service, event.host) == expected
    assert event.ts == pytest.approx(T, abs=1)


def test_a_sudo_command_keeps_its_program_and_never_its_arguments() -> None:
    event = authlog.parse_line(
        "2025-12-05T02:00:00+00:00 pc1 sudo:    alice : TTY=pts/0 ; PWD=/ ; "
        "USER=root ; COMMAND=/usr/bin/mysql -pSECRET",
        T,
    )
    assert isinstance(event, AccessEvent)
    assert event.detail == {"target": "root", "program": "mysql", "tty": "pts/0"}
    assert "SECRET" not in json.dumps(event.to_json())


def test_lines_that_repeat_another_line_or_record_no_access_are_not_counted() -> None:
    for msg in (
        "sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=ssh ruser= rhost=203.0.113.5  user=root",
        "CRON[5]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        "systemd-logind[400]: New session 3 of user alice.",
    ):
        assert authlog.parse_line(f"2025-12-05T02:00:00+00:00 pc1 {msg}", T) is None
    assert authlog.parse_line("not a syslog line", T) is False


def test_a_traditional_syslog_stamp_takes_the_year_that_is_not_in_the_future() -> None:
    ref = time.mktime((2026, 1, 2, 12, 0, 0, 0, 0, -1))
    got = authlog.syslog_time("Dec 31 23:59:00", ref)
    assert got == time.mktime((2025, 12, 31, 23, 59, 0, 0, 0, -1))


def test_journal_json_entries_give_the_event_and_the_cursor_to_continue_after() -> None:
    entry = {
        "__CURSOR": "s=abc;i=2f1;b=1;m=2;t=3;x=4",
        "__REALTIME_TIMESTAMP": "1764900000123456",
        "SYSLOG_IDENTIFIER": "sshd",
        "_PID": "811",
        "SYSLOG_FACILITY": "10",
        "MESSAGE": "Accepted publickey for alice from 192.0.2.7 port 50022 ssh2: ED25519 SHA256:x",
    }
    parsed = authlog.parse_journal_line(json.dumps(entry).encode())
    assert parsed is not None
    event, cursor = parsed
    assert cursor == entry["__CURSOR"]
    assert event is not None and (event.kind, event.user, event.source) == ("login", "alice", "journal")
    as_bytes = dict(entry, MESSAGE=list(b"Failed password for bob from 192.0.2.8 port 1 ssh2"))
    parsed = authlog.parse_journal_line(json.dumps(as_bytes).encode())
    assert parsed is not None and parsed[0] is not None and parsed[0].kind == "failed_login"
    assert authlog.parse_journal_line(b'{"MESSAGE": "no cursor"}') is None


def _event(record_id: int, event_id: int, **data: str) -> dict[str, object]:
    return {
        "RecordId": record_id,
        "Id": event_id,
        "TimeCreated": "2025-12-05T02:00:00.0000000Z",
        "Data": data,
    }


def test_windows_security_events_become_logins_failures_logouts_and_privilege_use_without_noise() -> None:
    envelope = {
        "Oldest": 100,
        "Newest": 900,
        "Events": [
            _event(
                501,
                4624,
                SubjectUserSid="S-1-5-18",
                TargetUserSid="S-1-5-18",
                TargetUserName="SYSTEM",
                TargetDomainName="NT AUTHORITY",
                LogonType="5",
                IpAddress="-",
            ),
            _event(
                502,
                4624,
                TargetUserSid="S-1-5-21-1-2-3-1001",
                TargetUserName="zhangwei",
                TargetDomainName="PC-01",
                LogonType="2",
                IpAddress="127.0.0.1",
            ),
            _event(
                503,
                4625,
                TargetUserName="administrator",
                TargetDomainName="PC-01",
                LogonType="10",
                IpAddress="203.0.113.5",
                Status="0xc000006d",
                SubStatus="0xc000006a",
            ),
            _event(
                504,
                4672,
                SubjectUserSid="S-1-5-21-1-2-3-1001",
                SubjectUserName="zhangwei",
                SubjectDomainName="PC-01",
                PrivilegeList="SeBackupPrivilege\r\n\t\t\tSeDebugPrivilege",
            ),
            _event(505, 4634, TargetUserName="DWM-1", TargetDomainName="Window Manager", LogonType="2"),
            _event(506, 4634, TargetUserName="zhangwei", TargetDomainName="PC-01", LogonType="2"),
        ],
    }
    read = security_log.parse(envelope, 500)
    assert [(e.kind, e.user, e.host) for e in read.events] == [
        ("login", "PC-01\\zhangwei", ""),
        ("failed_login", "PC-01\\administrator", "203.0.113.5"),
        ("privilege", "PC-01\\zhangwei", ""),
        ("logout", "PC-01\\zhangwei", ""),
    ]
    assert read.events[2].detail["privileges"] == "SeBackupPrivilege SeDebugPrivilege"
    assert (read.last_record, read.gap) == (506, "")


def test_a_wrapped_or_cleared_security_log_is_a_gap_not_quiet() -> None:
    wrapped = security_log.parse({"Oldest": 800, "Newest": 900, "Events": []}, 500)
    assert "overwritten unread" in wrapped.gap and wrapped.last_record == 500
    cleared = security_log.parse({"Oldest": 1, "Newest": 40, "Events": []}, 500)
    assert "cleared" in cleared.gap and cleared.last_record == 0
    with pytest.raises(HostwardError):
        security_log.parse([], 500)
