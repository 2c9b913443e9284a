"""Every playbook passes `ansible-playbook --syntax-check`, which resolves every module name."""

from __future__ import annotations

import subprocess
from pathlib import Path

from playbooks_kit import BIN, PLAYBOOKS, ansible_env

PLAYBOOK_NAMES = (
    "deploy-linux.yml",
    "deploy-windows.yml",
    "central.yml",
    "fleet-enforce.yml",
    "backup-now.yml",
    "inventory-register.yml",
)


def syntax_check(tmp_path: Path, *playbooks: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check", "-i", str(PLAYBOOKS / "inventory.example.yml"),
         *map(str, playbooks)],
        env=ansible_env(tmp_path), capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_every_playbook_passes_the_syntax_check(tmp_path: Path) -> None:
    assert sorted(p.name for p in PLAYBOOKS.glob("*.yml") if p.name != "inventory.example.yml") == sorted(
        PLAYBOOK_NAMES
    )
    done = syntax_check(tmp_path, *(PLAYBOOKS / name for name in PLAYBOOK_NAMES))
    assert done.returncode == 0, done.stdout + done.stderr
    for name in PLAYBOOK_NAMES:
        assert f"playbook: {PLAYBOOKS / name}" in done.stdout


def test_syntax_check_catches_an_unknown_windows_module(tmp_path: Path) -> None:
    playbook = tmp_path / "typo.yml"
    playbook.write_text(
        "- hosts: hostward_windows\n  tasks:\n    - ansible.windows.win_servic: {name: hostward}\n"
    )
    done = syntax_check(tmp_path, playbook)
    assert done.returncode != 0
    assert "ansible.windows.win_servic" in done.stdout + done.stderr
