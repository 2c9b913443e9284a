"""The `access_log` job (ROOM-6): new access events into the archive, counted for /metrics.

Each run reads every source after its bookmark (collectors/access/gather.py), appends the events
to the archive (agent/access/archive.py) and only then stores the new bookmarks: a crash in
between reads the same events again (duplicates are possible, loss is not). It also seals a
finished day's segment, prunes segments past `access_log.keep_days` (journaled as
`access_log.pruned`) and journals a gap a source reports (`access_log.gap`: a log rotated away
or cleared before it was read). The stored "access_log" record holds the running totals by
kind and the failed logins by source (hostward_access_failed_logins_total{source}), and each
source's status: a source that cannot be read makes the run partial, all of them a failure.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any

from agent.access.archive import Archive, ArchiveError
from agent.actions.base import JobContext, JobOutcome
from agent.journal import Journal, JournalError
from agent.records.access import AccessLogRecord, AccessLogUpdate, AccessSource
from agent.records.key_updates import MergeMapping
from agent.state import State
from collectors.access import AccessEvent
from collectors.access.gather import Gathered, gather_linux, gather_windows
from collectors.system.runner import Runner, SubprocessRunner

RECORD_KIND = AccessLogRecord.KIND
BOOKMARKS_KEY = "access_log.bookmarks"  # set per source read (MergeMapping): the others are kept
MAX_ROUNDS = 400  # rounds of <= 128 KiB a source (bounded memory) while one has more (a first import)


def _journal(ctx: JobContext, kind: str, data: dict[str, Any]) -> None:
    try:
        Journal(ctx.state_dir).append(kind, data)
    except JournalError as exc:  # a side channel: the archive holds the events
        ctx.log.warning("access_log: %s", exc)


def add_totals(state: State, events: Iterable[AccessEvent]) -> AccessLogRecord:
    """Count `events` into the stored record (also used by the USB listener), in one transaction."""
    return state.put_record(AccessLogUpdate(tuple(events)))


def collect_once(ctx: JobContext, root: str = "/", runner: Runner | None = None) -> Gathered:
    runner = runner or SubprocessRunner(memory_limit=ctx.config.limits.check_memory_max_bytes)
    bookmarks = dict(ctx.state.get(BOOKMARKS_KEY) or {})
    if sys.platform == "win32" and root in ("/", ""):  # pragma: no cover - Windows only
        return gather_windows(runner, bookmarks)
    return gather_linux(root, runner, bookmarks)


def access_log_job(ctx: JobContext) -> JobOutcome:
    return record_access(ctx)


def record_access(ctx: JobContext, root: str = "/", runner: Runner | None = None) -> JobOutcome:
    """The job's work on the system under `root` (tests pass a fixture tree and a runner)."""
    archive = Archive(ctx.state_dir)
    now = time.time()
    try:
        archive.seal_past(now)
        for name in archive.prune(ctx.config.access_log.keep_days, now):
            _journal(
                ctx, "access_log.pruned", {"segment": name, "keep_days": ctx.config.access_log.keep_days}
            )
    except (ArchiveError, OSError) as exc:
        ctx.log.warning("access_log: sealing/pruning: %s", exc)
    archived = 0
    sources: dict[str, AccessSource] = {}
    for _ in range(MAX_ROUNDS):
        found = collect_once(ctx, root, runner)
        try:
            archived += archive.append(found.events, time.time())
        except ArchiveError as exc:  # nothing stored: the bookmarks stay, the events are read again
            ctx.log.error("access_log: %s", exc)
            return JobOutcome(success=False, error=str(exc))
        bookmarks = {}
        for src in found.sources:
            if src.status == "ok":
                bookmarks[src.name] = src.bookmark
            if src.gap:
                _journal(ctx, "access_log.gap", {"source": src.name, "reason": src.gap})
            if src.malformed:
                ctx.log.warning("access_log: %s: %d malformed records skipped", src.name, src.malformed)
            read = src.read + (sources[src.name].read if src.name in sources and src.status == "ok" else 0)
            sources[src.name] = AccessSource(src.status, src.error, read, src.malformed, src.gap)
        ctx.state.update(MergeMapping(BOOKMARKS_KEY, bookmarks))  # the sources read; others kept
        add_totals(ctx.state, found.events)
        if not any(s.more for s in found.sources) or ctx.remaining() < 5:
            break
    errors = sorted(n for n, s in sources.items() if s.status == "error")
    ok = [n for n, s in sources.items() if s.status == "ok"]
    success = bool(ok) or not errors
    ctx.state.put_record(AccessLogUpdate(sources=sources, run_at=now, success=success))
    if archived:
        ctx.log.info("access_log: %d events archived", archived)
    if errors:
        why = "; ".join(f"{n}: {sources[n].error}" for n in errors)
        ctx.log.warning("access_log: could not read %s", why)
        return JobOutcome(success=success, error=f"could not read: {why}", partial=success)
    if not ok:
        return JobOutcome(success=False, error="no access log source on this system")
    return JobOutcome(success=True)
