"""`kill -9` in the middle of an enforcement: on restart the change is rolled back (and then
applied whole), never left half done, and the journal verifies.

`pwd.max_age` changes two things in order: /etc/login.defs (a file), then each account (a
`chage`). A fake `chage` first on PATH marks that it started and sleeps: the agent is then
killed with SIGKILL exactly between the two steps (the child dies with it: PDEATHSIG)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from reliability_b_kit import HOSTWARD, ROOT, Agent, agent_env, fake_program

from agent.actions.enforce import recover_enforcement
from agent.journal import Journal
from collectors.system.runner import SubprocessRunner
from policies.context import AuditInputs, Target
from policies.enforce_base import EnforceContext, write_file
from policies.undo import UndoLog, pending, rollback

pytestmark = pytest.mark.skipif(shutil.which("chage") is None, reason="chage (passwd package) is missing")

TODAY = int(time.time() // 86400)
LOGIN_DEFS = "# site settings\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\n"
PASSWD = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
SHADOW = f"root:*:{TODAY - 10}:0:99999:7:::\nalice:$6$salt$hash:{TODAY - 10}:0:99999:7:::\n"


def make_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/login.defs").write_text(LOGIN_DEFS)
    (root / "etc/passwd").write_text(PASSWD)
    (root / "etc/shadow").write_text(SHADOW)
    (root / "etc/shadow").chmod(0o640)
    (root / "etc/group").write_text("root:x:0:\nalice:x:1000:\n")
    return root


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "hostward.yaml"
    path.write_text(
        f"version: 1\nstate_dir: {tmp_path / 'state'}\nhost: {{role: office_pc, name: pc-01}}\n"
        "exporter: {enabled: false}\naudit:\n  enforce: [pwd.max_age]\n"
        "  schedule: {every: 1h, enabled: false}\ncollect: {schedule: {every: 1h, enabled: false}}\n",
        encoding="utf-8",
    )
    return path


def hostward(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        (str(HOSTWARD), *args), capture_output=True, text=True, timeout=60, env=env or agent_env(), cwd=ROOT
    )


def kill_between_steps(tmp_path: Path, config: Path, root: Path) -> float:
    """Start `hostward enforce`, SIGKILL it while its `chage` runs; returns seconds to the kill."""
    bindir = tmp_path / "bin"
    marker = tmp_path / "chage-started"
    fake_program(bindir, "chage", f'touch "{marker}"\nexec sleep 1000\n')
    started = time.monotonic()
    proc = subprocess.Popen(
        (str(HOSTWARD), "enforce", "-c", str(config), "--root", str(root), "--json"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=agent_env(path_first=bindir),
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, "enforce ended before its chage step"
            assert time.monotonic() < deadline, "the chage step never started"
            time.sleep(0.02)
        # Half applied right now: login.defs written, the account not yet.
        assert "PASS_MAX_DAYS\t90" in (root / "etc/login.defs").read_text()
        assert (root / "etc/shadow").read_text() == SHADOW
        assert (tmp_path / "state/enforce-undo.json").exists()
        # An agent starting now must not roll back under a live run (it holds the lock).
        assert recover_enforcement(tmp_path / "state") is None
        assert "PASS_MAX_DAYS\t90" in (root / "etc/login.defs").read_text()
        assert (tmp_path / "state/enforce-undo.json").exists()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return time.monotonic() - started


def test_a_killed_enforcement_is_rolled_back_by_the_agent_then_applied_whole(tmp_path: Path) -> None:
    root, config = make_root(tmp_path), write_config(tmp_path)
    kill_between_steps(tmp_path, config, root)
    assert hostward("journal", "verify", "-c", str(config)).returncode == 0

    t0 = time.monotonic()
    agent = Agent(tmp_path, config)
    try:
        agent.wait_for(lambda: not (tmp_path / "state/enforce-undo.json").exists(), what="the recovery")
        recovered_in = time.monotonic() - t0
    finally:
        agent.stop()
    assert (root / "etc/login.defs").read_text() == LOGIN_DEFS  # byte for byte as before
    assert (root / "etc/shadow").read_text() == SHADOW
    journal = Journal(tmp_path / "state")
    [entry] = [e for e in journal.entries() if e.kind == "enforce.rolled_back"]
    assert entry.data["restored"] == ["/etc/login.defs"]
    assert entry.data["commands_may_have_run"] == ["pwd.max_age: account alice"]
    assert journal.verify().ok
    assert recovered_in < 15
    print(f"\nFIGURE rolled back {recovered_in:.2f}s after the agent's start")

    done = hostward("enforce", "-c", str(config), "--root", str(root), "--json")
    assert done.returncode == 0, done.stderr
    changed = {c["name"] for c in json.loads(done.stdout) if c["changes"]}
    assert changed == {"/etc/login.defs", "account alice"}
    assert "PASS_MAX_DAYS\t90" in (root / "etc/login.defs").read_text()
    assert ":0:90:7:" in (root / "etc/shadow").read_text().split("alice:")[1]
    assert journal.verify().ok
    assert not (tmp_path / "state/enforce-undo.json").exists()


def test_a_killed_enforcement_rerun_rolls_back_then_completes_in_one_go(tmp_path: Path) -> None:
    root, config = make_root(tmp_path), write_config(tmp_path)
    kill_between_steps(tmp_path, config, root)
    done = hostward("enforce", "-c", str(config), "--root", str(root), "--json")
    assert done.returncode == 0, done.stderr
    kinds = [e.kind for e in Journal(tmp_path / "state").entries()]
    assert kinds == ["enforce.rolled_back", "enforce.apply", "enforce.apply"]
    assert "PASS_MAX_DAYS\t90" in (root / "etc/login.defs").read_text()
    assert ":0:90:7:" in (root / "etc/shadow").read_text().split("alice:")[1]
    assert hostward("journal", "verify", "-c", str(config)).returncode == 0


def test_a_journaled_run_killed_before_it_forgot_its_log_is_not_rolled_back(tmp_path: Path) -> None:
    """The commit point is the journal: a log whose id is journaled is only discarded."""
    root, config = make_root(tmp_path), write_config(tmp_path)
    done = hostward("enforce", "-c", str(config), "--root", str(root), "--json")
    assert done.returncode == 0, done.stderr
    applied = (root / "etc/login.defs").read_text()
    journal = Journal(tmp_path / "state")
    intent = next(e.data["intent"] for e in journal.entries() if e.kind == "enforce.apply")
    undo = {"id": intent, "root": str(root), "started": 0.0, "commands": [],
            "files": [{"path": "/etc/login.defs", "old": None, "mode": None}]}
    (tmp_path / "state/enforce-undo.json").write_text(json.dumps(undo))
    again = hostward("enforce", "-c", str(config), "--root", str(root), "--json")
    assert again.returncode == 0
    assert (root / "etc/login.defs").read_text() == applied
    assert "enforce.rolled_back" not in [e.kind for e in journal.entries()]


def test_rollback_puts_back_every_file_newest_first_and_removes_the_new_ones(tmp_path: Path) -> None:
    """USB lockdown writes two files (the USBGuard rules, then modprobe.d): a crash after the
    first leaves a log that restores the old rules (content and mode) and removes nothing else."""
    root = tmp_path / "root"
    (root / "etc/usbguard").mkdir(parents=True)
    rules = root / "etc/usbguard/rules.conf"
    rules.write_bytes(b"allow id 1d6b:0002\n\xff raw byte\n")
    rules.chmod(0o600)
    log = UndoLog(tmp_path / "state/enforce-undo.json", str(root))
    ctx = EnforceContext(Target("pc-01", "office_pc", "linux", str(root), live=False), SubprocessRunner(),
                         AuditInputs(), dry_run=False, undo=log)
    write_file(ctx, "/etc/usbguard/rules.conf", "block all\n", mode=0o644)
    write_file(ctx, "/etc/modprobe.d/hostward-usb.conf", "install usb-storage /bin/false\n")
    write_file(ctx, "/etc/usbguard/rules.conf", "block all, twice\n")  # remembered once: the original
    data = pending(tmp_path / "state/enforce-undo.json")
    assert data is not None and [f["path"] for f in data["files"]] == [
        "/etc/usbguard/rules.conf", "/etc/modprobe.d/hostward-usb.conf"]
    done = rollback(data)
    assert done.restored == ("/etc/modprobe.d/hostward-usb.conf", "/etc/usbguard/rules.conf")
    assert rules.read_bytes() == b"allow id 1d6b:0002\n\xff raw byte\n"
    assert rules.stat().st_mode & 0o777 == 0o600
    assert not (root / "etc/modprobe.d/hostward-usb.conf").exists()
    assert rollback(data) == done  # idempotent: a crash during the rollback is harmless
