"""The one way hostward writes HTML: `Markup` (markupsafe) is HTML, every other value is text.

A fragment is built from a literal template, `html('<td class="num">{}</td>', value)`; each value
that is not `Markup` already is escaped there, once, and `Markup` is never escaped again. So
a device name like `<script>` or `R&D` reaches the page as `&lt;script&gt;` / `R&amp;D`, never
raw and never as `&amp;amp;`. Fragments join with `join`, never with `"".join` (that returns a
plain str, which the next template would escape a second time). Templates are literals: a value
formatted into the template itself (`html(f"...{x}")`) would bypass the escaping, and
tests/web/test_markup.py refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import LiteralString

from markupsafe import Markup, escape

__all__ = ["EMPTY", "Markup", "bar", "escape", "facts", "header_row", "html", "join", "table"]

EMPTY = Markup("")


def html(template: LiteralString, /, *args: object, **kwargs: object) -> Markup:
    """`template` (HTML written here, trusted) with `{}` fields filled by escaped values."""
    return Markup(template).format(*args, **kwargs)  # noqa: S704 - a literal template (tests/web)


def join(parts: Iterable[Markup | str], sep: LiteralString = "") -> Markup:
    """Fragments one after the other; a plain str among them is escaped."""
    return Markup(sep).join(parts)  # noqa: S704 - a literal separator (tests/web)


def bar(percent: float, warn: float = 80.0, crit: float = 90.0) -> Markup:
    """A usage bar; the class says the level so tests and CSS can tell."""
    level = "crit" if percent >= crit else "warn" if percent >= warn else "ok"
    width = max(0.0, min(100.0, percent))
    return html(
        '<div class="bar {}" data-percent="{:.1f}"><span style="width:{:.1f}%"></span></div>',
        level,
        percent,
        width,
    )


def header_row(lang: str, columns: Iterable[tuple[str, str]]) -> Markup:
    """`<thead>` from (zh, en) column names."""
    cells = join(html("<th>{}</th>", zh if lang == "zh" else en) for zh, en in columns)
    return html("<thead><tr>{}</tr></thead>", cells)


def table(table_id: str, lang: str, columns: Iterable[tuple[str, str]], rows: Iterable[Markup]) -> Markup:
    """A table with a (zh, en) header and the given `<tr>` rows."""
    return html('<table id="{}">{}<tbody>{}</tbody></table>', table_id, header_row(lang, columns), join(rows))


def facts(table_id: str, lang: str, items: Iterable[tuple[str, str, Markup | str]]) -> Markup:
    """A two-column table of (zh label, en label, value)."""
    rows = join(
        html("<tr><th>{}</th><td>{}</td></tr>", zh if lang == "zh" else en, value) for zh, en, value in items
    )
    return html('<table class="facts" id="{}"><tbody>{}</tbody></table>', table_id, rows)
