"""The last result of every job, and whether the watchdog has set it aside."""

from __future__ import annotations

import time

from agent.state import Snapshot
from agent.watchdog import set_aside_until
from agent.web.text import e, t, when


def jobs_section(snapshot: Snapshot, lang: str) -> str:
    head = f'<section id="jobs"><h2>{t(lang, "任务", "Jobs")}</h2>'
    if not snapshot.jobs:
        return head + f'<p class="empty">{t(lang, "尚无任务运行记录。", "No job has run yet.")}</p></section>'
    columns = "".join(
        f"<th>{t(lang, zh, en)}</th>"
        for zh, en in (("任务", "Job"), ("上次运行", "Last attempt"), ("结果", "Result"),
                       ("耗时", "Duration"), ("错误", "Error"), ("上次成功", "Last success"))
    )  # fmt: skip
    rows = []
    aside = set_aside_until(snapshot, "job", time.time())  # an unreadable record: none shown
    for name, status in sorted(snapshot.jobs.items()):
        run = status.last
        if run.success:
            result = f'<span class="badge ok">{t(lang, "成功", "success")}</span>'
        else:
            label = t(lang, f"失败（第 {run.attempt} 次）", f"failed (attempt {run.attempt})")
            result = f'<span class="badge crit">{label}</span>'
        until = aside.get(name)
        if until is not None:
            label = t(lang, f"已暂停至 {when(until)}", f"set aside until {when(until)}")
            result += f' <span class="badge warn" data-set-aside="{until:.0f}">{label}</span>'
        rows.append(
            f'<tr data-job="{e(name)}" class="{"ok" if run.success else "crit"}"><td>{e(name)}</td>'
            f"<td>{when(run.started)}</td><td>{result}</td>"
            f'<td class="num">{run.duration:.2f} s</td><td class="err">{e(run.error)}</td>'
            f"<td>{when(status.last_success)}</td></tr>"
        )
    table = f'<table id="jobs-table"><thead><tr>{columns}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    return head + table + "</section>"

