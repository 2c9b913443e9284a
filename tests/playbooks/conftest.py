"""Fixtures of tests/playbooks; helpers live in playbooks_kit.py (a unique name, importable from tests)."""

from playbooks_kit import deployment  # noqa: F401
