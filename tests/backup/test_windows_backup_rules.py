"""Windows-only backup rules, on Linux: VSS is asked for on Windows only, and the password-file
DACL rule (tests/windows/test_wine_backup.py runs both for real under Wine)."""

from __future__ import annotations

from backup.config import BackupConfig, RepositoriesConfig, RepositoryConfig
from backup.plan import build_plan
from backup.secret_acl import (
    ACCESS_ALLOWED_ACE_TYPE,
    ADMINISTRATORS_SID,
    FILE_READ_DATA,
    GENERIC_READ,
    INHERIT_ONLY_ACE,
    SYSTEM_SID,
    readers_beyond_admins,
    windows_password_file_problem,
)

USERS, EVERYONE, ALICE = "S-1-5-32-545", "S-1-1-0", "S-1-5-21-1-2-3-1001"
ACCESS_DENIED_ACE_TYPE = 1
WRITE_DAC = 0x00040000


def test_the_backup_plan_asks_for_a_vss_snapshot_on_windows_only() -> None:
    config = BackupConfig(
        sources=("/srv/data",), repositories=RepositoriesConfig(primary=RepositoryConfig(url="/backup/r"))
    )
    assert build_plan(config, "/tmp/cache").fs_snapshot is False  # this test runs on Linux


def test_only_system_and_administrators_reading_is_no_problem() -> None:
    aces = [
        (ACCESS_ALLOWED_ACE_TYPE, 0, 0x1F01FF, SYSTEM_SID),
        (ACCESS_ALLOWED_ACE_TYPE, 0, 0x1F01FF, ADMINISTRATORS_SID),
    ]
    assert readers_beyond_admins(aces) == []


def test_users_everyone_or_one_user_allowed_to_read_are_named() -> None:
    aces = [
        (ACCESS_ALLOWED_ACE_TYPE, 0, 0x1F01FF, SYSTEM_SID),
        (ACCESS_ALLOWED_ACE_TYPE, 0, FILE_READ_DATA, USERS),
        (ACCESS_ALLOWED_ACE_TYPE, 0, GENERIC_READ, EVERYONE),
        (ACCESS_ALLOWED_ACE_TYPE, 0, 0x1200A9, ALICE),
        (ACCESS_ALLOWED_ACE_TYPE, 0, 0x1200A9, ALICE),
    ]
    assert readers_beyond_admins(aces) == [USERS, EVERYONE, ALICE]


def test_deny_entries_inherit_only_entries_and_rights_without_read_do_not_count() -> None:
    aces = [
        (ACCESS_DENIED_ACE_TYPE, 0, GENERIC_READ, EVERYONE),
        (ACCESS_ALLOWED_ACE_TYPE, INHERIT_ONLY_ACE, GENERIC_READ, USERS),
        (ACCESS_ALLOWED_ACE_TYPE, 0, WRITE_DAC, ALICE),
    ]
    assert readers_beyond_admins(aces) == []


def test_off_windows_the_dacl_check_leaves_the_file_to_the_posix_mode_check(tmp_path: object) -> None:
    assert windows_password_file_problem("/etc/hostward/restic.pw") is None
