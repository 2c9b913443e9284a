"""Enforcement: dry run first, real changes with the real tools under a temp root, idempotent,
opt-in per check, every change journaled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import hostward
from policies_kit import TODAY, AuditFn, write

from agent.journal import Journal

pytestmark = pytest.mark.skipif(
    shutil.which("chage") is None or shutil.which("usermod") is None,
    reason="shadow tools (chage, usermod) are not installed",
)


def config(tmp_path: Path, role: str, enforce: list[str], leavers: str = "") -> str:
    path = tmp_path / "hostward.yaml"
    path.write_text(
        f"state_dir: {tmp_path / 'state'}\nhost: {{role: {role}, name: pc-01}}\n"
        f"audit:\n  enforce: {json.dumps(enforce)}\n  leavers_file: {json.dumps(leavers)}\n"
    )
    return str(path)


def enforce(cfg: str, root: Path, *extra: str) -> tuple[int, list[dict[str, object]]]:
    code, out, _ = hostward("enforce", "-c", cfg, "--root", str(root), "--json", *extra)
    return code, json.loads(out)


def test_usb_lockdown_dry_run_then_apply_then_nothing_left(
    linux_root: Path, tmp_path: Path, check: AuditFn
) -> None:
    (linux_root / "etc/modprobe.d/hostward-usb.conf").unlink()
    assert check(linux_root, "usb.storage_blocked").status == "fail"
    cfg = config(tmp_path, "office_pc", ["usb.storage_blocked"])

    code, dry = enforce(cfg, linux_root, "--dry-run")
    assert code == 0
    assert [(c["check"], c["result"]) for c in dry] == [("usb.storage_blocked", None)]
    assert not (linux_root / "etc/modprobe.d/hostward-usb-storage_blocked.conf").exists()

    code, applied = enforce(cfg, linux_root)
    assert code == 0 and applied[0]["result"] is True and applied[0]["changes"]
    text = (linux_root / "etc/modprobe.d/hostward-usb-storage_blocked.conf").read_text()
    assert "install usb-storage /bin/false\nblacklist usb-storage\n" in text
    assert check(linux_root, "usb.storage_blocked").status == "pass"

    code, again = enforce(cfg, linux_root)
    assert code == 0
    assert [(c["result"], c["changes"], c["comment"]) for c in again] == [
        (True, {}, "already blocked in modprobe.d")
    ]

    journal = Journal(tmp_path / "state")
    assert [e.kind for e in journal.entries()] == ["enforce.apply"]
    assert journal.verify().ok


def test_password_max_age_set_with_chage_and_idempotent(
    linux_root: Path, tmp_path: Path, check: AuditFn
) -> None:
    write(linux_root, "/etc/login.defs", "PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\n")
    shadow = (linux_root / "etc/shadow").read_text().replace(f"{TODAY - 10}:0:90", f"{TODAY - 10}:0:99999")
    write(linux_root, "/etc/shadow", shadow)
    assert check(linux_root, "pwd.max_age").status == "fail"
    cfg = config(tmp_path, "office_pc", ["pwd.max_age"])

    code, applied = enforce(cfg, linux_root)
    assert code == 0, applied
    changed = {c["name"]: c["changes"] for c in applied if c["changes"]}
    assert changed == {
        "/etc/login.defs": {"PASS_MAX_DAYS": {"old": "99999", "new": 90}},
        "account alice": {"max_days": {"old": 99999, "new": 90}},
    }
    assert "alice:$6$salt$hash:" in (linux_root / "etc/shadow").read_text()  # hash untouched
    assert check(linux_root, "pwd.max_age").status == "pass"

    code, again = enforce(cfg, linux_root)
    assert code == 0 and all(c["result"] is True and not c["changes"] for c in again)


def test_leaver_locked_with_usermod_and_idempotent(linux_root: Path, tmp_path: Path, check: AuditFn) -> None:
    leavers = tmp_path / "leavers.csv"
    leavers.write_text(
        "name,account,date_left\n李波,bob,2026-10-31\n王芳,wangfang,2026-09-30\n", encoding="utf-8"
    )
    cfg = config(tmp_path, "office_pc", ["acc.leavers_disabled"], str(leavers))

    code, dry = enforce(cfg, linux_root, "--dry-run")
    assert {c["name"]: c["result"] for c in dry} == {"account bob": None, "account wangfang": True}
    code, _ = enforce(cfg, linux_root)
    assert code == 0
    bob = (linux_root / "etc/shadow").read_text().split("bob:")[1].split("\n")[0]
    assert bob.startswith("!$6$") and bob.split(":")[6] == "1"
    from policies.leavers import read_leavers

    assert check(linux_root, "acc.leavers_disabled", leavers=read_leavers(str(leavers))).status == "pass"
    code, again = enforce(cfg, linux_root)
    assert all(c["result"] is True and not c["changes"] for c in again)
    entries = list(Journal(tmp_path / "state").entries())
    assert [e.data["name"] for e in entries] == ["account bob"]


def test_nothing_changes_unless_opted_in(linux_root: Path, tmp_path: Path) -> None:
    (linux_root / "etc/modprobe.d/hostward-usb.conf").unlink()
    cfg = config(tmp_path, "office_pc", [])
    code, records = enforce(cfg, linux_root)
    assert code == 0 and records == []
    code, records = enforce(cfg, linux_root, "--check", "usb.storage_blocked")
    assert code == 1
    assert records[0]["comment"] == "not opted in: add it to audit.enforce"
    assert list((linux_root / "etc/modprobe.d").iterdir()) == []


def test_failed_tool_is_a_failed_change_and_journaled(linux_root: Path, tmp_path: Path) -> None:
    from policies_kit import RecordedRunner

    from agent.actions.enforce import perform_enforce
    from agent.config import load_config
    from collectors.system.runner import CommandResult

    shadow = (linux_root / "etc/shadow").read_text().replace(f"{TODAY - 10}:0:90", f"{TODAY - 10}:0:99999")
    write(linux_root, "/etc/shadow", shadow)
    argv = ("chage", "-R", str(linux_root), "-M", "90", "--", "alice")
    refused = CommandResult(argv, 1, b"", b"chage: cannot lock /etc/shadow; try again later.\n", 0.01)
    loaded = load_config(config(tmp_path, "office_pc", ["pwd.max_age"]))
    records = perform_enforce(
        loaded.config, loaded.state_dir, root=str(linux_root), runner=RecordedRunner({argv: refused})
    )
    (alice,) = [c for c in records if c.name == "account alice"]
    assert alice.result is False
    assert "cannot lock /etc/shadow" in alice.comment
    entries = list(Journal(tmp_path / "state").entries())
    assert [(e.kind, e.data["name"]) for e in entries] == [("enforce.failed", "account alice")]


def test_usbguard_gets_a_storage_block_rule_first_once(
    linux_root: Path, tmp_path: Path, check: AuditFn
) -> None:
    write(linux_root, "/etc/usbguard/usbguard-daemon.conf", "RuleFile=/etc/usbguard/rules.conf\n")
    write(
        linux_root,
        "/etc/usbguard/rules.conf",
        "allow id 1d6b:0002\nallow with-interface equals { 08:06:50 }\n",
    )
    assert check(linux_root, "usb.storage_blocked").status == "fail"
    cfg = config(tmp_path, "office_pc", ["usb.storage_blocked"])
    code, applied = enforce(cfg, linux_root)
    assert code == 0
    assert [c["name"] for c in applied if c["changes"]] == ["/etc/usbguard/rules.conf"]
    rules = (linux_root / "etc/usbguard/rules.conf").read_text()
    assert rules.startswith("block with-interface one-of { 08:*:* }")
    assert check(linux_root, "usb.storage_blocked").status == "pass"
    code, again = enforce(cfg, linux_root)
    assert all(not c["changes"] for c in again)


def test_leavers_csv_from_excel_in_gb18030_is_read(tmp_path: Path) -> None:
    from policies.leavers import read_leavers

    path = tmp_path / "leavers.csv"
    path.write_bytes(
        "姓名,账号,离职日期\n李波,bob,2026-10-31\n".replace(
            "姓名,账号,离职日期", "name,account,date_left"
        ).encode("gb18030")
    )
    assert [(lv.name, lv.account) for lv in read_leavers(str(path))] == [("李波", "bob")]
    path.write_bytes("\ufeffname,account,date_left\n王芳,wangfang,2026-09-30\n".encode())
    assert [lv.account for lv in read_leavers(str(path))] == ["wangfang"]
