"""The HTML evidence report of one audit: per written rule, each check's verdict and evidence.

Printable and self-contained (no scripts, no external files); every value is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.web.text import e, t
from policies.library import Library
from policies.result import CheckResult

STATUS_TEXT = {
    "pass": ("符合", "pass"),
    "fail": ("不符合", "fail"),
    "error": ("无法判定", "error"),
    "not_applicable": ("不适用", "n/a"),
}
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
th,td{border:1px solid #bbb;padding:4px 6px;vertical-align:top;text-align:left}
.pass{background:#e6f4ea}.fail{background:#fce8e6}.error{background:#fff4e5}
.not_applicable{background:#f1f3f4}pre{white-space:pre-wrap;font-size:85%;margin:0}
"""


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


def render_report(host: Mapping[str, Any], results: list[CheckResult], library: Library, lang: str) -> str:
    title = t(lang, "合规审计证据报告", "Compliance audit evidence report")
    head = (
        f'<!DOCTYPE html><html lang="{e(lang)}"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_CSS}</style></head><body><h1>{title}</h1>"
    )
    facts = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in host.items())
    parts = [head, f'<table id="host">{facts}</table>']
    by_rule: dict[str, list[CheckResult]] = {}
    for r in results:
        for rid in r.rules or ("",):  # "": a rejected policy file (no rule), listed last
            by_rule.setdefault(rid, []).append(r)
    order = {rid: i for i, rid in enumerate(library.rules)}  # the catalogue's (RULES.md) order
    for rule_id in sorted(by_rule, key=lambda rid: (order.get(rid, len(order)), rid)):
        rule = library.rules.get(rule_id)
        clause = (rule.clause.zh if lang == "zh" else rule.clause.en) if rule else ""
        if not rule_id:
            clause = t(lang, "策略文件", "Policy files")
        parts.append(f'<h2 id="rule-{e(rule_id)}">{e(rule_id)} {e(clause)}</h2>')
        if rule is not None:
            parts.append(f"<p>「{e(rule.key_phrase)}」 — {e(rule.source)}</p>")
        rows = []
        for r in by_rule[rule_id]:
            evidence = json.dumps(dict(r.evidence), ensure_ascii=False, indent=1, default=str)
            name = r.title_zh if lang == "zh" else r.title_en
            rows.append(
                f'<tr class="{e(r.status)}" data-check="{e(r.check)}"><td>{e(r.check)}<br>{e(name)}</td>'
                f"<td>{status_label(r, lang)}</td><td>{e(r.severity)}</td><td>{e(r.reason_in(lang))}</td>"
                f"<td><pre>{e(evidence)}</pre></td></tr>"
            )
        cols = "".join(
            f"<th>{t(lang, zh, en)}</th>"
            for zh, en in (
                ("检查项", "Check"),
                ("结果", "Result"),
                ("级别", "Severity"),
                ("原因", "Reason"),
                ("证据", "Evidence"),
            )
        )
        parts.append(f"<table><thead><tr>{cols}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    parts.append("</body></html>")
    return "".join(parts)
