"""Trap handling costs nothing while no traps arrive; what a flood costs. See `bench.traps.run.main`."""

from bench.traps.run import main

__all__ = ["main"]
