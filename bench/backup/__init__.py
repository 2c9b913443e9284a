"""Dual backup against one plain restic backup, wrapper overhead, incremental, restore, copy.

See `bench.backup.run.main`.
"""

from bench.backup.run import main

__all__ = ["main"]
