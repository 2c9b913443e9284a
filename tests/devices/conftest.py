"""Fixtures of tests/devices; the helpers live in devices_kit.py (a unique name, importable from tests)."""

from devices_kit import blackhole, snmpd, snmpsim  # noqa: F401
