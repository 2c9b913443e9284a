"""What both printed reports add to the one page shell (agent.web.page): the `paper` layout and
a footer saying when and by which hostward the report was made."""

from __future__ import annotations

import time
from collections.abc import Iterable

from agent import __version__
from agent.web.markup import Markup, html
from agent.web.page import page
from agent.web.text import t


def document(lang: str, title: str, body: Iterable[Markup]) -> Markup:
    """A whole report page; `title` is text, `body` is HTML."""
    footer = html(
        '<footer id="generated">{} {} · hostward {}</footer>',
        t(lang, "生成于", "Generated at"),
        time.strftime("%Y-%m-%d %H:%M:%S %z"),
        __version__,
    )
    return page(lang, title, body, layout="paper", footer=footer)
