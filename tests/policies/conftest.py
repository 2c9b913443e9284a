"""Fixtures of tests/policies; the helpers live in policies_kit.py (a unique name, importable from tests)."""

from policies_kit import check, library, linux_root  # noqa: F401
from windows_kit import win  # noqa: F401
