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
from dataclasses import asdict
from typing import Any

from agent.access.archive import Archive, ArchiveError
from agent.actions.base import JobContext, JobOutcome
from agent.journal import Journal, JournalError
from agent.state import State
from collectors.access import KINDS, AccessEvent
from collectors.access.gather import Gathered, gather_linux, gather_windows
from collectors.system.runner import Runner, SubprocessRunner

RECORD_KIND = "access_log"
BOOKMARKS_KEY = "access_log.bookmarks"
DAYS_KEPT = 14
MAX_ROUNDS = 400  # rounds of <= 128 KiB a source (bounded memory) while one has more (a first import)


def _journal(ctx: JobContext, kind: str, data: dict[str, Any]) -> None:
    try:
        Journal(ctx.state_dir).append(kind, data)
    except JournalError as exc:  # a side channel: the archive holds the events
        ctx.log.warning("access_log: %s", exc)


def add_totals(
    state: State, events: Iterable[AccessEvent], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The stored record with `events` counted in (also used by the USB listener)."""
    stored = state.record(RECORD_KIND)
    payload: dict[str, Any] = dict(stored.payload) if stored is not None else {}
    kinds = {k: int((payload.get("events_total") or {}).get(k, 0)) for k in KINDS}
    failed = {str(k): int(v) for k, v in (payload.get("failed_total") or {}).items()}
    days = {str(k): dict(v) for k, v in (payload.get("days") or {}).items() if isinstance(v, dict)}
    for event in events:
        kinds[event.kind] = kinds.get(event.kind, 0) + 1
        if event.kind == "failed_login":
            failed[event.source] = failed.get(event.source, 0) + 1
        day = days.setdefault(time.strftime("%Y-%m-%d", time.localtime(event.ts)), {})
        day[event.kind] = int(day.get(event.kind, 0)) + 1
    days = dict(sorted(days.items())[-DAYS_KEPT:])  # per local day, for the daily report
    payload.update(events_total=kinds, failed_total=failed, days=days, **(extra or {}))
    state.put_record(RECORD_KIND, payload)
    return payload


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
    sources: dict[str, dict[str, Any]] = {}
    for _ in range(MAX_ROUNDS):
        found = collect_once(ctx, root, runner)
        try:
            archived += archive.append(found.events, time.time())
        except ArchiveError as exc:  # nothing stored: the bookmarks stay, the events are read again
            ctx.log.error("access_log: %s", exc)
            return JobOutcome(success=False, error=str(exc))
        bookmarks = dict(ctx.state.get(BOOKMARKS_KEY) or {})
        for src in found.sources:
            if src.status == "ok":
                bookmarks[src.name] = src.bookmark
            if src.gap:
                _journal(ctx, "access_log.gap", {"source": src.name, "reason": src.gap})
            if src.malformed:
                ctx.log.warning("access_log: %s: %d malformed records skipped", src.name, src.malformed)
            row = {k: v for k, v in asdict(src).items() if k not in ("bookmark", "more")}
            if src.name in sources and src.status == "ok":
                row["read"] += sources[src.name].get("read", 0)
            sources[src.name] = row
        ctx.state.put(BOOKMARKS_KEY, bookmarks)
        add_totals(ctx.state, found.events)
        if not any(s.more for s in found.sources) or ctx.remaining() < 5:
            break
    errors = sorted(n for n, s in sources.items() if s["status"] == "error")
    ok = [n for n, s in sources.items() if s["status"] == "ok"]
    success = bool(ok) or not errors
    extra: dict[str, Any] = {"sources": sources, "last_run": now, "success": success}
    stored = ctx.state.record(RECORD_KIND)
    if success:
        extra["last_success"] = now
    elif stored is not None and "last_success" in stored.payload:
        extra["last_success"] = stored.payload["last_success"]
    add_totals(ctx.state, [], extra)
    if archived:
        ctx.log.info("access_log: %d events archived", archived)
    if errors:
        why = "; ".join(f"{n}: {sources[n]['error']}" for n in errors)
        ctx.log.warning("access_log: could not read %s", why)
        return JobOutcome(success=success, error=f"could not read: {why}", partial=success)
    if not ok:
        return JobOutcome(success=False, error="no access log source on this system")
    return JobOutcome(success=True)
