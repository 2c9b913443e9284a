"""Fixtures of tests/central; the helpers live in central_kit.py (a unique name, importable from tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from central_kit import ALERTMANAGER, PROMETHEUS, Fleet, start_fleet
from devices_kit import Snmpsim, snmpsim  # noqa: F401


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory, snmpsim: Snmpsim) -> Iterator[Fleet]:  # noqa: F811
    """Three running agents (one failing SW-1), Prometheus with the shipped rules, Alertmanager."""
    if PROMETHEUS is None or ALERTMANAGER is None:
        pytest.skip("needs Debian prometheus and prometheus-alertmanager (scripts/debian-deps.sh)")
    with ExitStack() as stack:
        yield start_fleet(stack, tmp_path_factory.mktemp("fleet"), snmpsim)
