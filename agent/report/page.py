"""The printed page both reports share: A4 print CSS, the document shell, small table helpers.

Self-contained (inline CSS, no scripts, no external files) so a report opens the same way from
an archive years later. Callers pass fragments whose values they escaped already (agent.web.text).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from agent import __version__
from agent.web.text import e, t

CSS = """
@page{size:A4;margin:14mm 12mm}
*{box-sizing:border-box}
body{margin:0 auto;max-width:190mm;padding:8mm 0;color:#111;background:#fff;
font:10.5pt/1.4 "Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",system-ui,sans-serif}
h1{font-size:17pt;margin:0 0 2mm}h2{font-size:13pt;margin:6mm 0 2mm;border-bottom:1.5pt solid #333}
h3{font-size:11pt;margin:4mm 0 1.5mm}
table{border-collapse:collapse;width:100%;margin:0 0 3mm;page-break-inside:auto}
tr{page-break-inside:avoid}thead{display:table-header-group}
th,td{border:.6pt solid #999;padding:1.2mm 2mm;text-align:left;vertical-align:top}
th{background:#eee;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{width:32%}td.id,td.num{white-space:nowrap}
.ok,.pass{background:#e7f4ea}.crit,.fail{background:#fbe4e2}.warn,.error{background:#fff3dc}
.muted,.nodata{background:#f0f0f0;color:#555}
.badge{display:inline-block;padding:0 2mm;border:.6pt solid #777;border-radius:2mm;font-size:9pt}
.cards{display:flex;flex-wrap:wrap;gap:2mm}.card{border:.6pt solid #999;padding:1mm 2mm;min-width:40mm}
.card .label{font-size:8.5pt;color:#555}.card .value{font-weight:600}
.bar{height:2.5mm;border:.5pt solid #999;min-width:25mm}.bar span{display:block;height:100%;background:#777}
.err{color:#a00}.empty{color:#555}small{color:#444}section{page-break-inside:auto}
.signoff{margin-top:10mm;display:flex;gap:20mm}.signoff div{flex:1;border-top:.6pt solid #333;padding-top:1mm}
footer{margin-top:6mm;font-size:8.5pt;color:#555}
@media screen{body{padding:10mm}}
@media print{a{color:inherit;text-decoration:none}}
"""


def document(lang: str, title: str, body: Iterable[str]) -> str:
    """A whole HTML page; `title` is escaped here, `body` fragments are already escaped."""
    html_lang = "zh-CN" if lang == "zh" else "en"
    generated = e(time.strftime("%Y-%m-%d %H:%M:%S %z"))
    return (
        f'<!DOCTYPE html><html lang="{html_lang}" data-lang="{e(lang)}"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
        + "".join(body)
        + f'<footer id="generated">{t(lang, "生成于", "Generated at")} {generated} · '
        f"hostward {e(__version__)}</footer></body></html>"
    )


def header_row(lang: str, columns: Iterable[tuple[str, str]]) -> str:
    """`<thead>` from (zh, en) column names."""
    cells = "".join(f"<th>{t(lang, zh, en)}</th>" for zh, en in columns)
    return f"<thead><tr>{cells}</tr></thead>"


def table(table_id: str, lang: str, columns: Iterable[tuple[str, str]], rows: Iterable[str]) -> str:
    return f'<table id="{e(table_id)}">{header_row(lang, columns)}<tbody>{"".join(rows)}</tbody></table>'


def facts(table_id: str, lang: str, items: Iterable[tuple[str, str, str]]) -> str:
    """A two-column table of (zh label, en label, escaped value)."""
    rows = "".join(f"<tr><th>{t(lang, zh, en)}</th><td>{value}</td></tr>" for zh, en, value in items)
    return f'<table class="facts" id="{e(table_id)}"><tbody>{rows}</tbody></table>'
