"""Footprint of the agent next to Debian's node_exporter: RSS, scrape latency, CPU per scrape.

`main` is the working agent's footprint (bench/footprint/working.py): every configured job has
run at least twice, over at least 5 minutes. `bench.footprint.run.main` is the idle scrape
comparison alone (600 fast scrapes right after start).
"""

from bench.footprint.working import main

__all__ = ["main"]
