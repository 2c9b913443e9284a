"""The Windows bundle under Wine: size, cold start of `hostward audit`, daemon RSS.

See `bench.windows.run.main`.
"""

from bench.windows.run import main

__all__ = ["main"]
