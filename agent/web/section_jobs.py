"""The last result of every job, and whether the watchdog has set it aside."""

from __future__ import annotations

import time

from agent.records import StateError, WatchdogJobsRecord
from agent.state import Snapshot
from agent.web.markup import Markup, header_row, html, join
from agent.web.text import t, when


def jobs_section(snapshot: Snapshot, lang: str) -> Markup:
    head = html('<section id="jobs"><h2>{}</h2>', t(lang, "任务", "Jobs"))
    if not snapshot.jobs:
        none = t(lang, "尚无任务运行记录。", "No job has run yet.")
        return head + html('<p class="empty">{}</p></section>', none)
    columns = header_row(lang, (("任务", "Job"), ("上次运行", "Last attempt"), ("结果", "Result"),
                                ("耗时", "Duration"), ("错误", "Error"),
                                ("上次成功", "Last success")))  # fmt: skip
    rows = []
    try:
        stored = snapshot.get(WatchdogJobsRecord)
    except StateError:  # the job table still shows; /metrics says the record is unreadable
        stored = None
    aside = stored.record.entries if stored is not None else {}
    for name, status in sorted(snapshot.jobs.items()):
        run = status.last
        if run.success:
            result = html('<span class="badge ok">{}</span>', t(lang, "成功", "success"))
        else:
            label = t(lang, f"失败（第 {run.attempt} 次）", f"failed (attempt {run.attempt})")
            result = html('<span class="badge crit">{}</span>', label)
        entry = aside.get(name)
        until = entry.until if entry is not None else 0.0
        if until > time.time():
            label = t(lang, f"已暂停至 {when(until)}", f"set aside until {when(until)}")
            result += html(' <span class="badge warn" data-set-aside="{:.0f}">{}</span>', until, label)
        rows.append(
            html(
                '<tr data-job="{name}" class="{level}"><td>{name}</td><td>{started}</td><td>{result}</td>'
                '<td class="num">{duration:.2f} s</td><td class="err">{error}</td><td>{success}</td></tr>',
                name=name,
                level="ok" if run.success else "crit",
                started=when(run.started),
                result=result,
                duration=run.duration,
                error=run.error,
                success=when(status.last_success),
            )
        )
    table = html('<table id="jobs-table">{}<tbody>{}</tbody></table>', columns, join(rows))
    return head + table + Markup("</section>")
