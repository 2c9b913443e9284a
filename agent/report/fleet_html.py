"""The fleet compliance report as printable HTML (zh/en) for security officers and auditors.

Every string that came from Prometheus (instances, labels, check ids, rule ids) is escaped.
Rule clauses and check titles come from the policy library; ids it does not know are shown
as they are.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from agent.report.fleet import CHECK_STATUSES, STATE_ORDER, FleetReport, HostResult, RuleRow
from agent.report.page import document
from agent.web.markup import EMPTY, Markup, facts, html, join, table
from agent.web.text import t, when
from policies.library import Library

STATE_TEXT = {
    "compliant": ("符合", "compliant"),
    "non_compliant": ("不符合", "non-compliant"),
    "errors": ("无法判定", "could not determine"),
    "no_data": ("无数据", "no data"),
}
RESULT_TEXT = {
    "pass": ("符合", "pass"),
    "fail": ("不符合", "fail"),
    "error": ("无法判定", "could not determine"),
    "waived": ("已豁免的不符合", "waived failures"),
}
NO_DATA_TEXT = {
    "down": ("该时间抓取失败（up == 0）", "scrape failed at that time (up == 0)"),
    "absent": ("该时间未被抓取", "not scraped at that time"),
    "site_unreachable": (
        "所在站点无法连接（中心无法汇聚该站点数据）",
        "its site cannot be reached (no federation)",
    ),
    "no_audit": ("无审计结果", "no audit results"),
}
_CSS_OF_STATE = {"compliant": "pass", "non_compliant": "fail", "errors": "error", "no_data": "nodata"}


def moment(epoch: float) -> str:
    """Local time with its offset, and UTC: '2026-11-23 16:00:00 +0800 (2026-11-23 08:00:00 UTC)'."""
    local = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(epoch))
    utc = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))
    return f"{local} ({utc})"


def render_fleet(report: FleetReport, library: Library, lang: str) -> Markup:
    title = t(lang, "终端合规情况报告（全网）", "Fleet compliance report")
    body = [
        html("<h1>{}</h1>", title),
        facts("report-facts", lang, _facts(report)),
        _summary(report, lang),
        _rules_table(report, library, lang),
        _hosts_table(report, library, lang),
        html(
            '<div class="signoff"><div>{}</div><div>{}</div></div>',
            t(lang, "审核人", "Reviewed by"),
            t(lang, "日期", "Date"),
        ),
    ]
    return document(lang, t(lang, "终端合规情况报告", "Fleet compliance report"), body)


def _facts(report: FleetReport) -> list[tuple[str, str, Markup]]:
    source = html('<span id="report-source">Prometheus {}</span> · job="{}"', report.source, report.job)
    return [
        ("时间点", "Point in time", html('<span id="report-time">{}</span>', moment(report.at))),
        ("数据来源", "Source", source),
    ]


def _summary(report: FleetReport, lang: str) -> Markup:
    host_cols = [("主机总数", "Hosts"), *(STATE_TEXT[s] for s in STATE_ORDER)]
    host_cells = [html('<td class="num" id="sum-hosts">{}</td>', len(report.hosts))] + [
        html('<td class="num" id="sum-{}">{}</td>', s, len(report.hosts_in(s))) for s in STATE_ORDER
    ]
    result_cols = [RESULT_TEXT[s] for s in CHECK_STATUSES]
    result_cells = [html('<td class="num" id="sum-{}">{}</td>', s, report.results(s)) for s in CHECK_STATUSES]
    note = EMPTY
    if all(h.state == "no_data" for h in report.hosts):
        text = t(lang, "该时间点没有任何主机的合规数据。", "No host had compliance data at that time.")
        note = html('<p class="nodata" id="no-data-at-all">{}</p>', text)
    return html(
        "<h2>{}</h2>{}<h3>{}</h3>{}<h3>{}</h3>{}",
        t(lang, "概况", "Summary"),
        note,
        t(lang, "主机", "Hosts"),
        table("summary-hosts", lang, host_cols, [html("<tr>{}</tr>", join(host_cells))]),
        t(lang, "检查结果（主机 × 检查项）", "Check results (host × check)"),
        table("summary-results", lang, result_cols, [html("<tr>{}</tr>", join(result_cells))]),
    )


def _host_list(items: Mapping[str, tuple[str, ...]]) -> Markup:
    return join(
        (html("{} <small>({})</small>", host, ", ".join(checks)) for host, checks in items.items()), "<br>"
    )


def _rules_table(report: FleetReport, library: Library, lang: str) -> Markup:
    order = {rid: i for i, rid in enumerate(library.rules)}
    rows = []
    measured = {r.rule for r in report.rules}
    unmeasured = [RuleRow(rid, (), {}, {}, {}) for rid in library.rules if rid not in measured]
    for row in sorted((*report.rules, *unmeasured), key=lambda r: (order.get(r.rule, len(order)), r.rule)):
        spec = library.rules.get(row.rule)
        clause = (spec.clause.zh if lang == "zh" else spec.clause.en) if spec else "—"
        rows.append(
            html(
                '<tr data-rule="{rule}" class="{css}"><td class="id">{rule}</td><td>{clause}</td>'
                '<td class="num">{passing}</td><td>{failing}</td><td>{erroring}</td><td>{waived}</td>'
                "<td>{na}</td></tr>",
                rule=row.rule,
                css=_rule_css(row),
                clause=clause,
                passing=len(row.passing),
                failing=_host_list(row.failing) or "—",
                erroring=_host_list(row.erroring) or "—",
                waived=_host_list(row.waived) or "—",
                na=_host_list(_na_text(row.not_applicable, lang)) or "—",
            )
        )
    without = len(report.hosts_in("no_data"))
    text = t(
        lang,
        f"另有 {without} 台主机该时间无数据，未计入本表。",
        f"{without} hosts had no data at that time and are not counted here.",
    )
    note = html('<p class="nodata">{}</p>', text) if without else EMPTY
    columns = [("条款", "Rule"), ("内容", "Clause"), ("符合的主机数", "Hosts passing"),
               ("不符合的主机（检查项）", "Hosts failing (checks)"), ("无法判定", "Could not determine"),
               ("已豁免", "Waived"), ("不适用（原因）", "Not applicable (why)")]  # fmt: skip
    return (
        html("<h2>{}</h2>", t(lang, "按条款", "By written rule"))
        + table("rules-table", lang, columns, rows)
        + note
    )


NA_TEXT = {
    "role": ("角色不适用", "role not covered"),
    "not_configured": ("未配置", "not configured"),
    "offline_root": ("离线审计", "offline root"),
}


def _na_text(items: Mapping[str, tuple[str, ...]], lang: str) -> dict[str, tuple[str, ...]]:
    """ "check: reason" entries with the reason class in words."""
    out = {}
    for host, entries in items.items():
        worded = []
        for entry in entries:
            check, _, why = entry.partition(": ")
            zh, en = NA_TEXT.get(why, (why, why))
            worded.append(f"{check}: {zh if lang == 'zh' else en}")
        out[host] = tuple(worded)
    return out


def _rule_css(row: RuleRow) -> str:
    if not (row.passing or row.failing or row.erroring or row.waived):
        return "nodata"  # every catalogue rule is shown; this one had no check or signal here
    return "fail" if row.failing else "error" if row.erroring else "pass"


def _hosts_table(report: FleetReport, library: Library, lang: str) -> Markup:
    titles = {c.id: (c.title.zh if lang == "zh" else c.title.en) for c in library.checks}
    rows = [_host_row(h, titles, lang) for h in report.hosts]
    columns = [("主机", "Host"), ("标签", "Labels"), ("结论", "Verdict"), ("符合", "Pass"),
               ("不符合", "Fail"), ("无法判定", "Error"), ("问题检查项（条款）", "Checks failing (rules)"),
               ("审计时间", "Audited at")]  # fmt: skip
    return html("<h2>{}</h2>", t(lang, "按主机", "By host")) + table("hosts-table", lang, columns, rows)


def _host_row(host: HostResult, titles: Mapping[str, str], lang: str) -> Markup:
    verdict = html("{}", t(lang, *STATE_TEXT[host.state]))
    if host.no_data:
        verdict += html("<br><small>{}</small>", t(lang, *NO_DATA_TEXT[host.no_data]))
    labels = ", ".join(f"{k}={v}" for k, v in host.labels.items() if k != "host")
    name = html("{}", host.instance)
    if host.name != host.instance:
        name = html("{}<br><small>{}</small>", host.name, name)
    problems = []
    for check, status in sorted(host.checks.items()):
        if status in ("fail", "error", "waived"):
            mark = {"fail": "✗", "error": "?", "waived": t(lang, "（豁免）", "(waived)")}[status]
            title = f" {titles[check]}" if check in titles else ""
            problems.append(
                html(
                    '<div data-check="{check}" class="{status}">{mark} {check}{title} '
                    "<small>({rules})</small></div>",
                    check=check,
                    status=status,
                    mark=mark,
                    title=title,
                    rules=", ".join(host.rules.get(check, ())),
                )
            )
    counts = join(html('<td class="num">{}</td>', host.count(s)) for s in ("pass", "fail", "error"))
    if host.no_data:
        counts = Markup('<td class="num">—</td><td class="num">—</td><td class="num">—</td>')
    return html(
        '<tr data-host="{}" data-state="{}" class="{}"><td>{}</td><td>{}</td><td>{}</td>{}<td>{}</td>'
        "<td>{}</td></tr>",
        host.instance,
        host.state,
        _CSS_OF_STATE[host.state],
        name,
        labels or "—",
        verdict,
        counts,
        join(problems) or "—",
        when(host.audited),
    )
