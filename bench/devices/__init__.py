"""200 simulated SNMP devices: one round by hostward against Debian's snmp_exporter.

See `bench.devices.run.main`.
"""

from bench.devices.run import main

__all__ = ["main"]
