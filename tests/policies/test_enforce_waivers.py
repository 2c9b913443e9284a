"""Enforcement respects approved exceptions: a current waiver for this host, or a person
exemption while only exempted people are logged in, leaves the check unchanged (record and
journal say who approved it until when); an expired or foreign one protects nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import hostward
from policies_kit import NOW, write

from agent.journal import Journal
from collectors.system.linux.sessions import utmp_record
from collectors.system.runner import SubprocessRunner
from policies.config import PersonExemption
from policies.context import AuditInputs, Target
from policies.enforce import enforce
from policies.library import Library

CHECK = "usb.storage_blocked"
WRITTEN = "etc/modprobe.d/hostward-usb-storage_blocked.conf"
AHEAD = (NOW + timedelta(days=30)).date().isoformat()
BEHIND = (NOW - timedelta(days=1)).date().isoformat()
APPROVER = "信息科王主任"


def waiver(expires: str, hosts: list[str]) -> dict[str, Any]:
    return {
        "check": CHECK,
        "approver": APPROVER,
        "reason": "扫描仪工作站",
        "expires": expires,
        "hosts": hosts,
    }


def person(expires: str) -> dict[str, Any]:
    return {"person": "张伟", "accounts": ["zhangwei"], "approver": APPROVER, "expires": expires}


def run_enforce(tmp_path: Path, root: Path, audit: dict[str, Any], *extra: str) -> tuple[int, list[Any]]:
    """`hostward enforce --root ROOT --json` with usb.storage_blocked opted in, host pc-01."""
    cfg = tmp_path / "hostward.yaml"
    audit = {"enforce": [CHECK], **audit}
    head = f"state_dir: {tmp_path / 'state'}\nhost: {{role: office_pc, name: pc-01}}\n"
    cfg.write_text(f"{head}audit: {json.dumps(audit, ensure_ascii=False)}\n", encoding="utf-8")
    code, out, _ = hostward("enforce", "-c", str(cfg), "--root", str(root), "--json", *extra)
    return code, json.loads(out)


def usb_open(root: Path) -> None:
    (root / "etc/modprobe.d/hostward-usb.conf").unlink()


def test_waived_host_is_left_unchanged_and_the_record_names_the_approver(
    linux_root: Path, tmp_path: Path
) -> None:
    usb_open(linux_root)
    audit = {"waivers": [waiver(AHEAD, ["pc-01"])]}

    code, dry = run_enforce(tmp_path, linux_root, audit, "--dry-run")
    assert code == 0 and [(c["result"], c["changes"]) for c in dry] == [(True, {})]
    code, records = run_enforce(tmp_path, linux_root, audit)
    assert code == 0
    assert not (linux_root / WRITTEN).exists()
    [record] = records
    assert record["check"] == CHECK and record["result"] is True and record["changes"] == {}
    assert record["waived"] == {
        "approver": APPROVER,
        "reason": "扫描仪工作站",
        "expires": AHEAD,
        "person": "",
    }
    assert APPROVER in record["comment"] and AHEAD in record["comment"]
    assert "not enforced" in record["comment"] and "已豁免" in record["comment"]

    journal = Journal(tmp_path / "state")
    entries = list(journal.entries())
    assert [(e.kind, e.data["waived"]["expires"]) for e in entries] == [("enforce.waived", AHEAD)]
    assert journal.verify().ok


@pytest.mark.parametrize(
    "audit",
    [
        pytest.param({"waivers": [waiver(BEHIND, ["pc-01"])]}, id="expired-waiver"),
        pytest.param({"waivers": [waiver(AHEAD, ["pc-99"])]}, id="waiver-for-another-host"),
        pytest.param({"person_exemptions": [person(AHEAD)]}, id="person-exemption-offline-nobody-logged-in"),
    ],
)
def test_waiver_that_does_not_cover_this_host_now_does_not_stop_enforcement(
    linux_root: Path, tmp_path: Path, audit: dict[str, Any]
) -> None:
    usb_open(linux_root)
    code, records = run_enforce(tmp_path, linux_root, audit)
    assert code == 0
    assert [(c["result"], "waived" in c) for c in records] == [(True, False)]
    assert records[0]["changes"]["file"] == "/" + WRITTEN
    assert "install usb-storage /bin/false" in (linux_root / WRITTEN).read_text()
    assert [e.kind for e in Journal(tmp_path / "state").entries()] == ["enforce.apply"]


@pytest.mark.parametrize(
    ("users", "expires", "waived"),
    [
        pytest.param(("zhangwei",), AHEAD, True, id="only-the-exempted-person"),
        pytest.param(("zhangwei", "bob"), AHEAD, False, id="someone-else-too"),
        pytest.param(("zhangwei",), BEHIND, False, id="exemption-expired"),
    ],
)
def test_person_exemption_holds_only_while_only_exempted_people_are_logged_in(
    linux_root: Path, library: Library, users: tuple[str, ...], expires: str, waived: bool
) -> None:
    usb_open(linux_root)
    write(linux_root, "/run/utmp", b"".join(utmp_record(u, f"tty{i + 1}") for i, u in enumerate(users)))
    exemption = PersonExemption(person="张伟", accounts=("zhangwei",), approver=APPROVER, expires=expires)
    live = Target("pc-01", "office_pc", "linux", str(linux_root), live=True)  # sessions now: the root's utmp
    records = enforce(
        library,
        live,
        SubprocessRunner(),
        AuditInputs(),
        opted_in=[CHECK],
        exemptions=[exemption],
        now=NOW,
    )
    assert [r.result for r in records] == [True]
    assert (records[0].waived is not None) is waived
    assert (linux_root / WRITTEN).exists() is not waived
    if waived:
        assert records[0].waived == {"approver": APPROVER, "reason": "", "expires": expires, "person": "张伟"}
        assert "for 张伟" in records[0].comment
