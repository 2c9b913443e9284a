"""hostward agent: CLI, config, scheduler, daemon, state, exporter and status page (floor 3)."""

from common.deferred import defer

__version__ = "0.1.0"

defer()  # before anything imports dataclasses: see common/deferred.py
