"""`hostward hash-password`: a bcrypt hash the config accepts, the password never in argv."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import bcrypt

Hostward = Callable[..., subprocess.CompletedProcess[str]]
WriteConfig = Callable[[str], Path]


def test_the_hash_checks_against_the_password_and_the_config_accepts_it(
    hostward: Hostward, write_config: WriteConfig
) -> None:
    result = hostward("hash-password", "--cost", "10", stdin="correct horse 马\n")
    assert result.returncode == 0, result.stderr
    hashed = result.stdout.strip()
    assert hashed.startswith("$2b$10$")
    assert bcrypt.checkpw("correct horse 马".encode(), hashed.encode())
    assert not bcrypt.checkpw(b"wrong horse", hashed.encode())
    path = write_config(f'version: 1\nexporter:\n  basic_auth_users: {{prometheus: "{hashed}"}}\n')
    assert hostward("config", "validate", "-c", str(path)).returncode == 0


def test_an_empty_password_is_refused(hostward: Hostward) -> None:
    result = hostward("hash-password", stdin="\n")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "empty password refused" in result.stderr
