"""Fixtures of tests/backup; the helpers live in backup_kit.py (a unique name, importable from tests)."""

from backup_kit import env, template  # noqa: F401
