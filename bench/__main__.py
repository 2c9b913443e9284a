"""`python -m bench [SUITE ...]`: run the benchmark suites listed here, in order.

Each suite is a module with `main() -> int` (0 = within budget). The list is explicit on
purpose: add a suite by adding its module name below.
"""

from __future__ import annotations

import importlib
import sys

SUITES: tuple[str, ...] = (
    "bench.footprint", "bench.audit", "bench.inventory", "bench.devices", "bench.backup", "bench.windows",
    "bench.fuzz", "bench.traps",
)


def main(argv: list[str]) -> int:
    wanted = argv or [name.rsplit(".", 1)[1] for name in SUITES]
    unknown = [w for w in wanted if f"bench.{w}" not in SUITES]
    if unknown:
        print(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES)}", file=sys.stderr)
        return 2
    worst = 0
    for name in SUITES:
        if name.rsplit(".", 1)[1] not in wanted:
            continue
        print(f"== {name}", flush=True)
        code = importlib.import_module(name).main()
        print(f"== {name}: {'within budget' if code == 0 else 'OVER BUDGET or failed'}\n", flush=True)
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
