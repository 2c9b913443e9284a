"""`hostward backup drill --full [--repo primary|secondary] [--target DIR] [--snapshot ID]`.

Exit 0 when every drilled repository restored and verified the whole snapshot, else 1.
"""

from __future__ import annotations

import argparse
import sys
import time

from agent.actions.backup_drill_full import default_target, do_full_drill
from agent.commands import common
from agent.commands.backup_show import human
from agent.drill_full_record import full_drills
from backup.plan import NotConfigured


def full_drill_command(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    state = common.open_state(loaded)
    target = args.target or default_target(loaded.config, loaded.state_dir)
    started = time.time()
    try:
        results = do_full_drill(
            loaded.config, state, loaded.state_dir,
            timeout=float(loaded.config.backup.drill.full_schedule.timeout),
            only=args.source or "", target=target, snapshot=args.snapshot,
        )  # fmt: skip
    except NotConfigured as exc:
        print(f"hostward backup: {exc}", file=sys.stderr)
        return common.EXIT_FAILED
    if not args.source and args.snapshot == "latest" and results:
        # a whole drill by hand counts as the scheduled job's run: enabling the schedule after
        # it does not start another full restore at once (an interval job never run runs now)
        bad = "; ".join(f"{r.repository}: {r.error}" for r in results if not r.ok)
        state.record_run("backup_drill_full", started, time.time() - started, not bad, bad)
    views = full_drills(state.snapshot())
    for r in results:
        if not r.ok:
            print(
                f"{r.repository:<9} 错误 error [{r.error_kind or 'drill'}]  "
                f"snapshot {r.snapshot_id[:8] or '-'}  {r.error}"
            )
            continue
        print(
            f"{r.repository:<9} 通过 ok  snapshot {r.snapshot_id[:8]}  files {r.files}  {human(r.bytes)}  "
            f"restore+verify {r.duration:.2f}s  {human(r.throughput)}/s"
        )
        view = views.get(r.repository)
        projected = view.projected_seconds if view is not None else None
        if view is not None and projected is not None:
            print(
                f"    projected full restore / 预计完整恢复: {_span(projected)} "
                f"({human(view.size_now)} from {view.size_source}; ROOM-2 limit 4 h)"
            )
    print(f"scratch target / 临时目录: {target} (removed after each drill / 演练后已删除)")
    return common.EXIT_OK if results and all(r.ok for r in results) else common.EXIT_FAILED


def _span(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"
