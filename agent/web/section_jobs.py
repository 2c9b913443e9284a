"""The last result of every job, and whether the watchdog has set it aside."""

from __future__ import annotations

import time

from agent.state import Snapshot
from agent.watchdog import set_aside_until
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
    aside = set_aside_until(snapshot, "job", time.time())  # an unreadable record: none shown
    for name, status in sorted(snapshot.jobs.items()):
        run = status.last
        if run.success:
            result = html('<span class="badge ok">{}</span>', t(lang, "成功", "success"))
        else:
            label = t(lang, f"失败（第 {run.attempt} 次）", f"failed (attempt {run.attempt})")
            result = html('<span class="badge crit">{}</span>', label)
        until = aside.get(name)
        if until is not None:
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
