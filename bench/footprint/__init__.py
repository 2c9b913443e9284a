"""Footprint of the agent next to Debian's node_exporter: RSS, scrape latency, CPU per scrape.

See `bench.footprint.run.main`.
"""

from bench.footprint.run import main

__all__ = ["main"]
