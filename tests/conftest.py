"""Suite-wide settings: Hypothesis profiles for the parser fuzz tests (tests/**/test_fuzz_*.py).

Fuzz tests take their example count from the profile, never from their own @settings:
`ci` (the default, used by `make test`) keeps each target to a few hundred examples;
`bench` (HYPOTHESIS_PROFILE=bench, used by `make bench`) runs the long campaign.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "bench", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# Files whose tests measure time or race a deadline (floods, clock jumps, watchdog limits,
# silent-device rounds, SNMP timeouts): `make test` runs them on their own after the parallel
# part, so that another test's load never decides their outcome.
SERIAL_FILES = frozenset({
    "tests/reliability/test_a_load.py",
    "tests/reliability/test_a_auth.py",
    "tests/reliability/test_b_time.py",
    "tests/reliability/test_b_watchdog.py",
    "tests/reliability/test_c_clock.py",
    "tests/devices/test_silent_rounds.py",
    "tests/devices/test_snmp_agents.py",
    "tests/devices/test_misbehaving_agent.py",
    "tests/exporter/test_exporter_auth.py",
    "tests/records/test_state_race.py",
    "tests/devices/test_trap_flood.py",
    "tests/backup/test_sftp_slow_link.py",
    "tests/foundation/test_workers.py",
    "tests/foundation/test_workers_daemon.py",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    for item in items:
        if item.path.relative_to(root).as_posix() in SERIAL_FILES:
            item.add_marker(pytest.mark.serial)
