"""The status page at `/`: one self-contained HTML page in Chinese or English.

`/?lang=zh|en` picks the language, else the browser's Accept-Language, else Chinese. The page
has no external resources (inline CSS, no scripts), refreshes itself every 30 s, and is made
of the sections registered in agent.web.sections.
"""

from __future__ import annotations

import logging
import socket
import time

from agent import __version__
from agent.state import Snapshot
from agent.web.sections import SECTIONS
from agent.web.text import LANGS, e, t

log = logging.getLogger(__name__)

_CSS = """
:root{--ok:#1a7f37;--warn:#b7791f;--crit:#c62828;--bg:#f5f6f8;--fg:#1f2328;
--mute:#656d76;--line:#d0d7de}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;
background:var(--bg);color:var(--fg)}
header{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap;padding:14px 24px;
background:#24292f;color:#fff}
header h1{margin:0;font-size:20px}header .meta{color:#c9d1d9;font-size:13px}
header a{color:#9ecbff;margin-left:auto}
main{padding:8px 24px 24px;max-width:1200px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:16px 0}
h2{margin:0 0 10px;font-size:17px}h3{margin:16px 0 6px;font-size:15px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.card .label{color:var(--mute);font-size:12px}.card .value{font-size:17px;font-weight:600}
.card small{font-weight:400;color:var(--mute)}
.card.na{border-style:dashed}.card.na .value{color:var(--mute);font-size:14px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-size:12px;color:var(--mute);font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.err{color:var(--crit);max-width:420px;word-break:break-word}
.bar{height:10px;background:#eaeef2;border-radius:5px;overflow:hidden;min-width:120px;margin-top:4px}
.bar span{display:block;height:100%;background:var(--ok)}
.bar.warn span{background:var(--warn)}.bar.crit span{background:var(--crit)}
tr.fs.warn td.num:first-of-type{color:var(--warn)}tr.fs.crit td{color:var(--crit)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.badge.ok{background:var(--ok)}.badge.crit{background:var(--crit)}.badge.warn{background:var(--warn)}
.empty{color:var(--mute)}.error{color:var(--crit)}
footer{color:var(--mute);font-size:12px;padding:0 24px 24px}
"""


def pick_lang(query: str, accept_language: str) -> str:
    """ "zh" or "en": the query wins, then the first supported Accept-Language, then zh."""
    if query in LANGS:
        return query
    for item in accept_language.split(","):
        tag = item.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"


def render_status(snapshot: Snapshot, lang: str) -> str:
    """The whole page. A section that raises is replaced by an error notice, never a blank."""
    lang = lang if lang in LANGS else "zh"
    other = "en" if lang == "zh" else "zh"
    body = []
    for section in SECTIONS:
        try:
            body.append(section(snapshot, lang))
        except Exception:
            log.exception("status section %s failed", getattr(section, "__name__", section))
            name = e(getattr(section, "__name__", "section"))
            failed = t(lang, "此部分出错，详见日志。", "This section failed; see the log.")
            body.append(f'<section class="error" data-section="{name}">{failed}</section>')
    title = t(lang, "hostward 主机状态", "hostward host status")
    switch = "English" if lang == "zh" else "中文"
    host = e(socket.gethostname())
    generated = e(time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}" data-lang="{lang}">'
        '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta http-equiv="refresh" content="30">'
        f"<title>{title} · {host}</title><style>{_CSS}</style></head><body>"
        f'<header><h1>{title}</h1><span class="meta" id="hostname">{host}</span>'
        f'<span class="meta" id="generated">{t(lang, "生成于", "Generated at")} {generated}</span>'
        f'<a id="lang-switch" href="/?lang={other}" hreflang="{other}">{switch}</a></header>'
        f"<main>{''.join(body)}</main>"
        f'<footer>hostward {e(__version__)} · <a href="/metrics">/metrics</a></footer></body></html>'
    )
