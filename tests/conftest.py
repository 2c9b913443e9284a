"""Suite-wide settings: Hypothesis profiles for the parser fuzz tests (tests/**/test_fuzz_*.py).

Fuzz tests take their example count from the profile, never from their own @settings:
`ci` (the default, used by `make test`) keeps each target to a few hundred examples;
`bench` (HYPOTHESIS_PROFILE=bench, used by `make bench`) runs the long campaign.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "bench", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
