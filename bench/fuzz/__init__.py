"""The long fuzz campaign: every tests/**/test_fuzz_*.py under the `bench` Hypothesis profile.

See `bench.fuzz.run.main`.
"""

from bench.fuzz.run import main

__all__ = ["main"]
