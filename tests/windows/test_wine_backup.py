"""Backups on Windows, under Wine, with a stand-in restic.exe that records its command line.

The command line hostward builds on Windows: `--use-fs-snapshot` (VSS), the password reaching
restic as RESTIC_PASSWORD_FILE (never argv), Windows paths with spaces and umlauts intact. A
password file that more than SYSTEM and Administrators can read (its DACL, read with pywin32)
is refused before restic runs. Wine cannot keep an arbitrary DACL on a file (it maps one to
the unix mode); a Users or single-user entry is covered by the unit test of the DACL rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from standin import build_restic_standin
from wine_kit import WineBox

PASSWORD = "correct horse battery staple 2026"

# What the DACL check says about a file. Wine derives a file's DACL from its unix mode (SYSTEM
# and the owner full control, Everyone read when "other" may read), so the tests set the mode.
CHECK = r"""
import sys
from backup.secret_acl import windows_password_file_problem
print(windows_password_file_problem(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def backup_setup(wine_box: WineBox) -> tuple[Path, Path, Path, str]:
    """(config, standin log, password file, source folder as Windows path)."""
    folder = wine_box.scratch("backup-win")
    restic = build_restic_standin(folder / "bin" / "restic.exe")
    source = folder / "Daten 2026 (Praxis)" / "Röntgen"
    source.mkdir(parents=True)
    (source / "befund.txt").write_text("Befund\n", encoding="utf-8")
    secrets = folder / "secrets"
    secrets.mkdir()
    password = secrets / "restic.pw"
    password.write_text(PASSWORD + "\n", encoding="utf-8")
    win = wine_box.win_path
    config = folder / "hostward.yaml"
    config.write_text(
        "version: 1\n"
        f"state_dir: '{win(folder)}\\state'\n"
        "exporter: {enabled: false}\n"
        "backup:\n"
        f"  restic: '{win(restic)}'\n"
        f"  sources: ['{win(source)}']\n"
        "  secondary_mode: independent\n"
        "  repositories:\n"
        f"    primary: {{url: '{win(folder)}\\repo', password_file: '{win(password)}'}}\n",
        encoding="utf-8",
    )
    return config, restic.parent / "standin.log", password, win(source)


def _calls(log: Path) -> list[dict[str, list[str]]]:
    """Each recorded restic start: {"arg": [...], "env": [...], "pwfile": [...]}."""
    calls: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] = {"arg": [], "env": [], "pwfile": []}
    for line in log.read_text(encoding="utf-8").splitlines() if log.exists() else []:
        if line == "end":
            calls.append(current)
            current = {"arg": [], "env": [], "pwfile": []}
        else:
            tag, _, value = line.partition(":")
            current[tag].append(value)
    return calls


def test_the_backup_uses_vss_and_passes_the_password_by_file_with_windows_paths_intact(
    wine_box: WineBox, backup_setup: tuple[Path, Path, Path, str]
) -> None:
    config, log, password, source = backup_setup
    password.chmod(0o600)
    protected = wine_box.python("-c", CHECK, wine_box.win_path(password))
    assert protected.returncode == 0, protected.describe()
    assert protected.out("cp1252").strip() == "None"
    done = wine_box.hostward("backup", "run", "-c", wine_box.win_path(config), "--json")
    assert done.returncode == 0, done.describe()
    assert json.loads(done.out("cp1252"))["repositories"]["primary"]["status"] == "ok"
    backups = [c for c in _calls(log) if "backup" in c["arg"]]
    assert len(backups) == 1
    args = backups[0]["arg"]
    assert "--use-fs-snapshot" in args
    assert args[-2:] == ["--", source]
    assert "RESTIC_PASSWORD_FILE" in backups[0]["env"] and "RESTIC_REPOSITORY" in backups[0]["env"]
    assert "RESTIC_PASSWORD" not in backups[0]["env"]
    assert backups[0]["pwfile"] == [wine_box.win_path(password)]
    every_arg = " ".join(a for call in _calls(log) for a in call["arg"])
    assert PASSWORD not in every_arg and "restic.pw" not in every_arg


def test_a_password_file_everyone_can_read_is_refused_before_restic_runs(
    wine_box: WineBox, backup_setup: tuple[Path, Path, Path, str]
) -> None:
    config, log, password, _ = backup_setup
    password.chmod(0o644)
    exposed = wine_box.python("-c", CHECK, wine_box.win_path(password))
    assert exposed.returncode == 0, exposed.describe()
    assert "can be read by" in exposed.out("cp1252") and "(S-1-1-0)" in exposed.out("cp1252")
    before = len(_calls(log))
    done = wine_box.hostward("backup", "run", "-c", wine_box.win_path(config), "--json")
    assert done.returncode != 0
    outcome = json.loads(done.out("cp1252"))["repositories"]["primary"]
    assert outcome["status"] == "failed"
    assert "not only SYSTEM and Administrators" in outcome["error"] and "icacls" in outcome["error"]
    assert not [c for c in _calls(log)[before:] if "backup" in c["arg"]]
