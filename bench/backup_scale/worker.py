"""One nightly backup job as the daemon's worker runs it: a Python process that has already
imported the agent runs `do_backup` (backup into the primary, mirror into the secondary, state
written), then prints the job's own wall time and the mirror's as JSON. The process wall time
(what `hostward backup run` from a shell costs, Python start included) is taken by the caller.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from agent.actions import backup as actions
from agent.commands import common


def main(config: str) -> int:
    loaded = common.load(argparse.Namespace(config=config))
    state = common.open_state(loaded)
    started = time.monotonic()
    result = actions.do_backup(loaded.config, state, loaded.state_dir, timeout=3600.0)
    job = time.monotonic() - started
    methods = {o.repository: (o.method, o.duration) for o in result.repositories}
    print(json.dumps({"status": result.status, "job_s": job, "repositories": methods}))
    return 0 if result.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
