"""`hostward enforce` USB lockdown on Windows, under Wine's real registry.

The values are read back with Wine's `reg query` in a separate process. A crash in the middle
of the change (the process ends with os._exit right after its third registry write, as after a
`kill -9`: no cleanup runs) leaves the undo log; the next start rolls the registry back to what
it was, journals that, and the next `hostward enforce` applies the change whole.

The audit reads the same values with winreg (no PowerShell, which Wine only stubs): USB-1 fails
on a fresh prefix, passes after `hostward enforce`, and fails again when a value is put back by
hand with `reg add`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from wine_kit import WineBox, base_env

USBSTOR = r"HKLM\SYSTEM\CurrentControlSet\Services\USBSTOR"
REMOVABLE = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices"
DISK = REMOVABLE + r"\{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"
WPD = REMOVABLE + r"\{6ac27878-a6fa-4155-ba85-f98f491d4f33}"

# perform_enforce as `hostward enforce` runs it, its registry writes counted: after the third
# one the process ends at once (os._exit: no finally, no journal, no undo-log cleanup).
CRASH_AFTER_THIRD_WRITE = r"""
import os, sys
from collectors.system.windows import registry
from agent.config import load_config
from agent.actions.enforce import perform_enforce
real_set = registry.WinRegistry.set
writes = []
def set_then_crash(self, key, name, value):
    real_set(self, key, name, value)
    writes.append(name)
    if len(writes) == 3:
        os._exit(9)
registry.WinRegistry.set = set_then_crash
loaded = load_config(sys.argv[1])
perform_enforce(loaded.config, loaded.state_dir)
print("not reached")
"""

RECOVER = r"""
import sys
from pathlib import Path
from agent.actions.enforce import recover_enforcement
done = recover_enforcement(Path(sys.argv[1]))
print(len(done.restored) if done else "nothing")
"""


def _reg(box: WineBox, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["wine", "reg", *args],
        env=base_env(box.prefix),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )


def _values(box: WineBox, key: str) -> dict[str, str]:
    """`reg query KEY` as {value name: data}; {} when the key does not exist."""
    done = _reg(box, "query", key)
    if done.returncode != 0:
        return {}
    out = {}
    for line in done.stdout.decode("cp1252", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].startswith("REG_"):
            out[parts[0]] = parts[2]
    return out


def _reset(box: WineBox) -> None:
    """An open PC: USBSTOR Start=3 (load on demand), no removable-storage policy."""
    _reg(box, "delete", REMOVABLE, "/f")
    assert _reg(box, "add", USBSTOR, "/v", "Start", "/t", "REG_DWORD", "/d", "3", "/f").returncode == 0


def _config(box: WineBox, name: str) -> tuple[Path, Path]:
    folder = box.scratch(name)
    (folder / "hostward.yaml").write_text(
        "version: 1\n"
        f"state_dir: '{box.win_path(folder)}\\state'\n"
        "host: {role: office_pc, name: pc-01}\n"
        "exporter: {enabled: false}\n"
        "audit:\n  enforce: [usb.storage_blocked]\n",
        encoding="utf-8",
    )
    return folder / "hostward.yaml", folder / "state"


def _kinds(state: Path) -> list[str]:
    lines = (state / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["kind"] for line in lines if line.strip()]


def test_enforce_writes_usbstor_and_the_deny_policies_and_a_second_run_changes_nothing(
    wine_box: WineBox,
) -> None:
    _reset(wine_box)
    config, state = _config(wine_box, "enforce-usb")
    first = wine_box.hostward("enforce", "-c", wine_box.win_path(config), "--json")
    assert first.returncode == 0, first.describe()
    [record] = json.loads(first.out("cp1252"))
    assert record["result"] is True
    assert record["changes"]["values"][0] == {"key": USBSTOR, "name": "Start", "old": 3, "new": 4}
    assert _values(wine_box, USBSTOR)["Start"] == "0x4"
    assert _values(wine_box, DISK) == {"Deny_Execute": "0x1", "Deny_Read": "0x1", "Deny_Write": "0x1"}
    assert _values(wine_box, WPD) == {"Deny_Read": "0x1", "Deny_Write": "0x1"}
    again = wine_box.hostward("enforce", "-c", wine_box.win_path(config), "--json")
    assert again.returncode == 0, again.describe()
    [record] = json.loads(again.out("cp1252"))
    assert (record["result"], record["changes"], record["comment"]) == (True, {}, "already in place")
    assert _kinds(state) == ["enforce.apply"]
    assert not (state / "enforce-undo.json").exists()


def test_a_crash_mid_lockdown_is_rolled_back_at_the_next_start_then_applied_whole(wine_box: WineBox) -> None:
    _reset(wine_box)
    config, state = _config(wine_box, "enforce-crash")
    crashed = wine_box.python("-c", CRASH_AFTER_THIRD_WRITE, wine_box.win_path(config))
    assert crashed.returncode == 9, crashed.describe()
    assert _values(wine_box, USBSTOR)["Start"] == "0x4"  # half applied: Start and two deny values
    assert _values(wine_box, DISK) == {"Deny_Read": "0x1", "Deny_Write": "0x1"}
    assert (state / "enforce-undo.json").exists()
    recovered = wine_box.python("-c", RECOVER, wine_box.win_path(state))
    assert recovered.returncode == 0, recovered.describe()
    assert recovered.out("cp1252").strip() == "3"
    assert _values(wine_box, USBSTOR)["Start"] == "0x3"  # as it was
    assert _reg(wine_box, "query", REMOVABLE).returncode != 0  # the keys it created are gone
    assert _kinds(state) == ["enforce.rolled_back"]
    assert not (state / "enforce-undo.json").exists()
    done = wine_box.hostward("enforce", "-c", wine_box.win_path(config), "--json")
    assert done.returncode == 0, done.describe()
    assert len(json.loads(done.out("cp1252"))[0]["changes"]["values"]) == 8
    assert _values(wine_box, USBSTOR)["Start"] == "0x4"
    assert _kinds(state) == ["enforce.rolled_back", "enforce.apply"]
    verify = wine_box.hostward("journal", "verify", "-c", wine_box.win_path(config))
    assert verify.returncode == 0, verify.describe()


def _audit_usb(box: WineBox, config: Path) -> dict[str, object]:
    done = box.hostward("audit", "-c", box.win_path(config), "--check", "usb.storage_blocked", "--json")
    assert done.returncode in (0, 1), done.describe()  # 0 all pass, 1 a failure; 2 would be an error
    [result] = json.loads(done.out("cp1252"))["results"]
    assert result["check"] == "usb.storage_blocked"
    return dict(result)


def test_usb1_audit_reads_the_registry_fails_fresh_passes_after_enforce_and_fails_when_undone_by_hand(
    wine_box: WineBox,
) -> None:
    # As a fresh prefix has it (the template has neither key): no USBSTOR, no policy.
    _reg(wine_box, "delete", USBSTOR, "/f")
    _reg(wine_box, "delete", REMOVABLE, "/f")
    config, _ = _config(wine_box, "audit-usb")
    fresh = _audit_usb(wine_box, config)
    assert fresh["status"] == "fail", fresh
    assert "USBSTOR Start is not set" in str(fresh["reason"]) and "no deny policy" in str(fresh["reason"])
    assert fresh["evidence"]["usbstor_start"] is None  # type: ignore[index]
    enforced = wine_box.hostward("enforce", "-c", wine_box.win_path(config), "--json")
    assert enforced.returncode == 0, enforced.describe()
    locked = _audit_usb(wine_box, config)
    assert locked["status"] == "pass", locked
    assert locked["evidence"]["usbstor_start"] == 4  # type: ignore[index]
    assert _reg(wine_box, "add", USBSTOR, "/v", "Start", "/t", "REG_DWORD", "/d", "3", "/f").returncode == 0
    undone = _audit_usb(wine_box, config)
    assert undone["status"] == "fail", undone
    assert "USBSTOR Start is 3" in str(undone["reason"]) and "no deny policy" not in str(undone["reason"])
