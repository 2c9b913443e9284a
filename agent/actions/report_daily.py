"""The `report_daily` job (ROOM-3): write today's inspection record into the archive and
forget records older than `report.daily.keep_days`. The CLI (`hostward report daily`) shares it.

The renderer is imported when the job runs, not when the job registry loads (the daemon's
resident memory stays what it was until 23:55).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from agent.actions.base import JobContext, JobOutcome
from agent.config.schema import Config
from agent.state import State


def backup_configured(config: Config) -> bool:
    """Whether this host is meant to back up (a missing backup record is then a problem)."""
    b = config.backup
    return bool(b.sources and (b.repositories.primary or b.repositories.secondary))


def render_for(config: Config, state: State, day: date, lang: str | None = None) -> str:
    from agent.report.daily_html import render_daily

    return render_daily(config, state, day, lang or config.report.daily.lang, backup_configured(config))


def report_daily_job(ctx: JobContext) -> JobOutcome:
    from agent.report.daily_html import prune_archive, write_archive

    today = date.today()
    path: Path = write_archive(ctx.state_dir, today, render_for(ctx.config, ctx.state, today))
    removed = prune_archive(ctx.state_dir, ctx.config.report.daily.keep_days, today)
    ctx.log.info("daily inspection record written to %s (%d old records removed)", path, len(removed))
    return JobOutcome(True)
