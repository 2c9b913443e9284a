"""The one page shell of every HTML page hostward writes: the live status page, the audit
evidence report, the daily inspection record and the fleet compliance report.

Each page is self-contained (inline CSS, no scripts, no external files), so the status page
needs no more than its Content-Security-Policy allows (`style-src 'unsafe-inline'`) and a
report opens the same way from an archive years later. The one stylesheet has two layouts:
`live` (the status page on a screen) and `paper` (the reports, A4 when printed); the daily
record shows the status page's own sections, so `paper` styles them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from agent.web.markup import EMPTY, Markup, html, join

Layout = Literal["live", "paper"]

STYLESHEET = Markup(
    # Both layouts.
    "*{box-sizing:border-box}"
    "@page{size:A4;margin:14mm 12mm}"
    # live: the status page.
    ".live{--ok:#1a7f37;--warn:#b7791f;--crit:#c62828;--bg:#f5f6f8;--fg:#1f2328;--mute:#656d76;--line:#d0d7de}"
    'body.live{margin:0;font:14px/1.45 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",'
    "sans-serif;background:var(--bg);color:var(--fg)}"
    ".live header{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap;padding:14px 24px;"
    "background:#24292f;color:#fff}"
    ".live header h1{margin:0;font-size:20px}.live header .meta{color:#c9d1d9;font-size:13px}"
    ".live header a{color:#9ecbff;margin-left:auto}"
    ".live main{padding:8px 24px 24px;max-width:1200px}"
    ".live section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;"
    "margin:16px 0}"
    ".live h2{margin:0 0 10px;font-size:17px}.live h3{margin:16px 0 6px;font-size:15px}"
    ".live .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}"
    ".live .card{border:1px solid var(--line);border-radius:6px;padding:8px 10px}"
    ".live .card .label{color:var(--mute);font-size:12px}.live .card .value{font-size:17px;font-weight:600}"
    ".live .card small{font-weight:400;color:var(--mute)}"
    ".live .card.na{border-style:dashed}.live .card.na .value{color:var(--mute);font-size:14px}"
    ".live table{border-collapse:collapse;width:100%}"
    ".live th,.live td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);"
    "vertical-align:middle}"
    ".live th{font-size:12px;color:var(--mute);font-weight:600}"
    ".live td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".live td.err{color:var(--crit);max-width:420px;word-break:break-word}"
    ".live .bar{height:10px;background:#eaeef2;border-radius:5px;overflow:hidden;min-width:120px;"
    "margin-top:4px}"
    ".live .bar span{display:block;height:100%;background:var(--ok)}"
    ".live .bar.warn span{background:var(--warn)}.live .bar.crit span{background:var(--crit)}"
    ".live tr.fs.warn td.num:first-of-type{color:var(--warn)}.live tr.fs.crit td{color:var(--crit)}"
    ".live .badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}"
    ".live .badge.ok{background:var(--ok)}.live .badge.crit{background:var(--crit)}"
    ".live .badge.warn{background:var(--warn)}"
    ".live .empty{color:var(--mute)}.live .error{color:var(--crit)}"
    ".live footer{color:var(--mute);font-size:12px;padding:0 24px 24px}"
    # paper: the reports.
    "body.paper{margin:0 auto;max-width:190mm;padding:8mm 0;color:#111;background:#fff;"
    'font:10.5pt/1.4 "Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",system-ui,sans-serif}'
    ".paper h1{font-size:17pt;margin:0 0 2mm}"
    ".paper h2{font-size:13pt;margin:6mm 0 2mm;border-bottom:1.5pt solid #333}"
    ".paper h3{font-size:11pt;margin:4mm 0 1.5mm}"
    ".paper table{border-collapse:collapse;width:100%;margin:0 0 3mm;page-break-inside:auto}"
    ".paper tr{page-break-inside:avoid}.paper thead{display:table-header-group}"
    ".paper th,.paper td{border:.6pt solid #999;padding:1.2mm 2mm;text-align:left;vertical-align:top}"
    ".paper th{background:#eee;font-weight:600}"
    ".paper td.num,.paper th.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".paper table.facts th{width:32%}.paper td.id,.paper td.num{white-space:nowrap}"
    ".paper .ok,.paper .pass{background:#e7f4ea}.paper .crit,.paper .fail{background:#fbe4e2}"
    ".paper .warn,.paper .error{background:#fff3dc}"
    ".paper .muted,.paper .nodata,.paper .not_applicable{background:#f0f0f0;color:#555}"
    ".paper .badge{display:inline-block;padding:0 2mm;border:.6pt solid #777;border-radius:2mm;font-size:9pt}"
    ".paper .cards{display:flex;flex-wrap:wrap;gap:2mm}"
    ".paper .card{border:.6pt solid #999;padding:1mm 2mm;min-width:40mm}"
    ".paper .card .label{font-size:8.5pt;color:#555}.paper .card .value{font-weight:600}"
    ".paper .bar{height:2.5mm;border:.5pt solid #999;min-width:25mm}"
    ".paper .bar span{display:block;height:100%;background:#777}"
    ".paper .err{color:#a00}.paper .empty{color:#555}.paper small{color:#444}"
    ".paper section{page-break-inside:auto}"
    ".paper pre{white-space:pre-wrap;font-size:85%;margin:0}"
    ".paper .signoff{margin-top:10mm;display:flex;gap:20mm}"
    ".paper .signoff div{flex:1;border-top:.6pt solid #333;padding-top:1mm}"
    ".paper footer{margin-top:6mm;font-size:8.5pt;color:#555}"
    "@media screen{body.paper{padding:10mm}}"
    "@media print{.paper a{color:inherit;text-decoration:none}}"
)


def page(
    lang: str,
    title: str,
    body: Iterable[Markup],
    *,
    layout: Layout,
    header: Markup = EMPTY,
    footer: Markup = EMPTY,
    refresh: int | None = None,
) -> Markup:
    """A whole HTML page in `lang` ("zh" or "en"); `title` is text, the parts are HTML."""
    lang = "zh" if lang == "zh" else "en"
    reload = html('<meta http-equiv="refresh" content="{}">', refresh) if refresh else EMPTY
    return html(
        '<!DOCTYPE html><html lang="{}" data-lang="{}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">{}'
        '<title>{}</title><style>{}</style></head><body class="{}">{}{}{}</body></html>',
        "zh-CN" if lang == "zh" else "en",
        lang,
        reload,
        title,
        STYLESHEET,
        layout,
        header,
        join(body),
        footer,
    )
