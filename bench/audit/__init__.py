"""Full compliance audit: wall time and peak RSS, against `lynis audit system --quick`.

See `bench.audit.run.main`.
"""

from bench.audit.run import main

__all__ = ["main"]
