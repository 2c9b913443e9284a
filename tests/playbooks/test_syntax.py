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
    playbooks = [p.name for p in PLAYBOOKS.glob("*.yml") if not p.name.startswith("inventory.")]
    assert sorted(playbooks) == sorted(PLAYBOOK_NAMES)
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


def test_deploy_windows_refuses_the_placeholder_restic_sha256_before_touching_any_pc(tmp_path: Path) -> None:
    """The inventory example's all-zero SHA-256 stops the play at its first task, saying what to
    put there; a real-looking one gets past it (to the check that the files were placed)."""
    from playbooks_kit import local_inventory, run_playbook

    runs = {}
    for name, sha in (("placeholder", "0" * 64), ("pinned", "ab" * 32)):
        vars_ = {"hostward_restic_sha256": sha, "hostward_restic_exe": str(tmp_path / "no" / "restic.exe")}
        inventory = local_inventory(tmp_path / f"{name}.yml", {"pc-01": vars_}, group="hostward_windows")
        runs[name] = run_playbook("deploy-windows.yml", inventory, tmp_path, None, timeout=120)
    placeholder, pinned = runs["placeholder"], runs["pinned"]
    assert placeholder.rc != 0 and placeholder.recap["pc-01"]["failed"] == 1, placeholder.output
    assert "all-zero placeholder" in placeholder.output
    assert "put the real SHA-256 of the restic.exe you placed at" in placeholder.output
    assert "Hash restic.exe on the controller" not in placeholder.output
    assert pinned.rc != 0 and "all-zero placeholder" not in pinned.output
    assert "The bundle and restic.exe must be on the controller" in pinned.output
