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
from agent.web.markup import Markup, html, join
from agent.web.page import page
from agent.web.sections import SECTIONS
from agent.web.text import LANGS, t

log = logging.getLogger(__name__)


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


def render_status(snapshot: Snapshot, lang: str) -> Markup:
    """The whole page. A section that raises is replaced by an error notice, never a blank."""
    lang = lang if lang in LANGS else "zh"
    other = "en" if lang == "zh" else "zh"
    body: list[Markup] = []
    for section in SECTIONS:
        try:
            body.append(section(snapshot, lang))
        except Exception:
            log.exception("status section %s failed", getattr(section, "__name__", section))
            name = getattr(section, "__name__", "section")
            failed = t(lang, "此部分出错，详见日志。", "This section failed; see the log.")
            body.append(html('<section class="error" data-section="{}">{}</section>', name, failed))
    title = t(lang, "hostward 主机状态", "hostward host status")
    host = socket.gethostname()
    header = html(
        '<header><h1>{}</h1><span class="meta" id="hostname">{}</span>'
        '<span class="meta" id="generated">{} {}</span>'
        '<a id="lang-switch" href="/?lang={}" hreflang="{}">{}</a></header>',
        title,
        host,
        t(lang, "生成于", "Generated at"),
        time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        other,
        other,
        "English" if lang == "zh" else "中文",
    )
    footer = html('<footer>hostward {} · <a href="/metrics">/metrics</a></footer>', __version__)
    main = html("<main>{}</main>", join(body))
    return page(lang, f"{title} · {host}", [main], layout="live", header=header, footer=footer, refresh=30)
