"""hostward agent: CLI, config, scheduler, daemon, state, exporter and status page (floor 3)."""

__version__ = "0.1.0"
