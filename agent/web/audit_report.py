"""The HTML evidence report of one audit: per written rule, each check's verdict and evidence.

Printable and self-contained (no scripts, no external files), in the one page shell
(agent.web.page); every value is escaped once (agent.web.markup).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.web.markup import Markup, header_row, html, join
from agent.web.page import page
from agent.web.text import t
from policies.library import Library
from policies.result import CheckResult

STATUS_TEXT = {
    "pass": ("符合", "pass"),
    "fail": ("不符合", "fail"),
    "error": ("无法判定", "error"),
    "not_applicable": ("不适用", "n/a"),
}


def status_label(result: CheckResult, lang: str) -> str:
    zh, en = STATUS_TEXT[result.status]
    text = t(lang, zh, en)
    if result.waived and result.waiver is not None:
        w = result.waiver
        who = f" {w.person}" if w.person else ""
        text += t(
            lang,
            f"（已豁免{who}：{w.approver} 批准，至 {w.expires}）",
            f" (waived{who}: approved by {w.approver} until {w.expires})",
        )
    return text


def render_report(host: Mapping[str, Any], results: list[CheckResult], library: Library, lang: str) -> Markup:
    title = t(lang, "合规审计证据报告", "Compliance audit evidence report")
    facts = join(html("<tr><th>{}</th><td>{}</td></tr>", k, v) for k, v in host.items())
    parts = [html('<h1>{}</h1><table id="host">{}</table>', title, facts)]
    by_rule: dict[str, list[CheckResult]] = {}
    for r in results:
        for rid in r.rules or ("",):  # "": a rejected policy file (no rule), listed last
            by_rule.setdefault(rid, []).append(r)
    order = {rid: i for i, rid in enumerate(library.rules)}  # the catalogue's (RULES.md) order
    cols = header_row(lang, (("检查项", "Check"), ("结果", "Result"), ("级别", "Severity"),
                             ("原因", "Reason"), ("证据", "Evidence")))  # fmt: skip
    for rule_id in sorted(by_rule, key=lambda rid: (order.get(rid, len(order)), rid)):
        rule = library.rules.get(rule_id)
        clause = (rule.clause.zh if lang == "zh" else rule.clause.en) if rule else ""
        if not rule_id:
            clause = t(lang, "策略文件", "Policy files")
        parts.append(html('<h2 id="rule-{}">{} {}</h2>', rule_id, rule_id, clause))
        if rule is not None:
            parts.append(html("<p>「{}」 — {}</p>", rule.key_phrase, rule.source))
        rows = []
        for r in by_rule[rule_id]:
            evidence = json.dumps(dict(r.evidence), ensure_ascii=False, indent=1, default=str)
            rows.append(
                html(
                    '<tr class="{status}" data-check="{check}"><td>{check}<br>{name}</td><td>{label}</td>'
                    "<td>{severity}</td><td>{reason}</td><td><pre>{evidence}</pre></td></tr>",
                    status=r.status,
                    check=r.check,
                    name=r.title_zh if lang == "zh" else r.title_en,
                    label=status_label(r, lang),
                    severity=r.severity,
                    reason=r.reason_in(lang),
                    evidence=evidence,
                )
            )
        parts.append(html("<table>{}<tbody>{}</tbody></table>", cols, join(rows)))
    return page(lang, title, parts, layout="paper")
