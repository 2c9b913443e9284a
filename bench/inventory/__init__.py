"""`hostward inventory` wall time against its 2 s budget. See `bench.inventory.run.main`."""

from bench.inventory.run import main

__all__ = ["main"]
