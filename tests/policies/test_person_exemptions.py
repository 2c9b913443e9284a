"""USB-1 exemptions per named person with expiry: they hold only while the people logged in
are exempted ones, stop at expiry, never cover USB-2, and reports name the person."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from policies_kit import NOW, AuditFn, write
from windows_kit import runner

from collectors.system.linux.sessions import parse_logind_session, parse_utmp, utmp_record
from common.schema import SchemaError, load_text
from policies.config import AuditConfig, PersonExemption

ZHANG = PersonExemption(
    person="张伟（财务部经理）",
    accounts=("zhangwei", "CORP\\zhangwei"),
    approver="信息科王主任",
    expires=(NOW + timedelta(days=30)).date().isoformat(),
    reason="报表需要U盘拷贝",
)
EXPIRED = PersonExemption(
    person="李娜",
    accounts=("lina",),
    approver="信息科王主任",
    expires=(NOW - timedelta(days=1)).date().isoformat(),
)


def usb_open(root: Path, *users: str) -> None:
    """USB storage not blocked, and `users` logged in (utmp, as login/sshd write it)."""
    write(root, "/etc/modprobe.d/hostward-usb.conf", "")
    write(root, "/run/utmp", b"".join(utmp_record(u, f"tty{i + 1}") for i, u in enumerate(users)))


def test_utmp_and_logind_sessions_are_read() -> None:
    data = utmp_record("zhangwei", "tty2") + utmp_record("lina", "pts/0", "10.0.0.9")
    assert [(s.user, s.line, s.host) for s in parse_utmp(data)] == [
        ("zhangwei", "tty2", ""),
        ("lina", "pts/0", "10.0.0.9"),
    ]
    session = parse_logind_session(
        "UID=1000\nUSER=zhangwei\nACTIVE=1\nSTATE=active\nCLASS=user\nSEAT=seat0\n"
    )
    assert session is not None and session.user == "zhangwei"
    assert parse_logind_session("USER=gdm\nSTATE=active\nCLASS=greeter\n") is None


def test_only_exempted_person_logged_in_waives_usb1(linux_root: Path, check: AuditFn) -> None:
    usb_open(linux_root, "zhangwei")
    result = check(linux_root, "usb.storage_blocked", exemptions=[ZHANG, EXPIRED])
    assert result.status == "fail" and result.waived  # still visible as a failure, marked waived
    assert result.waiver is not None and result.waiver.person == ZHANG.person
    assert result.waiver.expires == ZHANG.expires and result.waiver.approver == "信息科王主任"
    assert result.evidence["person_exemptions"] == [
        {"person": ZHANG.person, "account": "zhangwei", "expires": ZHANG.expires, "approver": "信息科王主任"}
    ]


def test_someone_else_logged_in_too_is_not_exempt(linux_root: Path, check: AuditFn) -> None:
    usb_open(linux_root, "zhangwei", "bob")
    result = check(linux_root, "usb.storage_blocked", exemptions=[ZHANG])
    assert result.status == "fail" and not result.waived
    assert result.evidence["person_exemption_not_applied"]["not_exempted"] == ["bob"]


def test_expired_exemption_stops_applying(linux_root: Path, check: AuditFn) -> None:
    usb_open(linux_root, "lina")
    result = check(linux_root, "usb.storage_blocked", exemptions=[ZHANG, EXPIRED])
    assert result.status == "fail" and not result.waived
    assert result.evidence["person_exemption_not_applied"]["expired"] == [
        {"person": "李娜", "account": "lina", "expires": EXPIRED.expires}
    ]


def test_nobody_logged_in_is_not_exempt(linux_root: Path, check: AuditFn) -> None:
    usb_open(linux_root)
    assert not check(linux_root, "usb.storage_blocked", exemptions=[ZHANG]).waived


def test_exemption_for_another_host_does_not_apply(linux_root: Path, check: AuditFn) -> None:
    usb_open(linux_root, "zhangwei")
    elsewhere = PersonExemption(
        person=ZHANG.person, accounts=ZHANG.accounts, approver="x", expires=ZHANG.expires, hosts=("pc-99",)
    )
    assert not check(linux_root, "usb.storage_blocked", exemptions=[elsewhere]).waived


def test_usb2_clinical_terminal_is_never_exempted(linux_root: Path, check: AuditFn) -> None:
    usb_open(linux_root, "zhangwei")
    clinical = PersonExemption(
        person=ZHANG.person,
        accounts=ZHANG.accounts,
        approver="x",
        expires=ZHANG.expires,
        checks=("usb.media_blocked_clinical",),
    )
    result = check(linux_root, "usb.media_blocked_clinical", role="clinical_terminal", exemptions=[clinical])
    assert result.status == "fail" and not result.waived


def test_windows_session_owner_with_domain_matches_the_exemption(win: AuditFn) -> None:
    open_usb = {"usbstor": "open", "removable_policy": "none"}
    alone = win("usb.storage_blocked", runner=runner(sessions="manager", **open_usb), exemptions=[ZHANG])
    assert (
        alone.status == "fail" and alone.waived and alone.evidence["session_accounts"] == ["PC-01\\zhangwei"]
    )
    shared = win(
        "usb.storage_blocked", runner=runner(sessions="manager_and_clerk", **open_usb), exemptions=[ZHANG]
    )
    assert not shared.waived


def test_config_loads_exemptions_and_rejects_one_without_accounts() -> None:
    config = load_text(
        AuditConfig,
        "person_exemptions:\n  - person: 张伟\n    accounts: [zhangwei]\n"
        '    approver: 王主任\n    expires: "2026-12-31"\n',
    )
    assert config.person_exemptions[0].checks == ("usb.storage_blocked",)
    try:
        load_text(
            AuditConfig,
            'person_exemptions:\n  - {person: x, accounts: [], approver: y, expires: "2026-12-31"}\n',
        )
    except SchemaError as exc:
        assert "person_exemptions[0].accounts" in str(exc)
    else:
        raise AssertionError("an exemption without accounts was accepted")
