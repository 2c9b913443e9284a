"""Child process: one polling round by hostward over the config given; prints JSON figures."""

from __future__ import annotations

import json
import sys
import time

from agent.actions.devices import poll_and_record
from agent.config import load_config


def main() -> None:
    loaded = load_config(sys.argv[1])
    cpu0, wall0 = time.process_time(), time.monotonic()
    engine = sys.argv[3] if len(sys.argv) > 3 else "native"
    round_ = poll_and_record(loaded.config, None, concurrency=int(sys.argv[2]), v2c_engine=engine)
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    print(
        json.dumps(
            {
                "round_seconds": wall,
                "round_cpu_seconds": cpu,
                "up": sum(r.up for r in round_.results),
                "down": len(round_.failed),
                "interfaces": sum(len(r.interfaces) for r in round_.results),
                "warnings": sorted({w for r in round_.results for w in r.warnings})[:5],
            }
        )
    )


if __name__ == "__main__":
    main()
