"""Small helpers every section shares: bilingual text, escaping, units, times."""

from __future__ import annotations

import time
from html import escape

LANGS = ("zh", "en")


def t(lang: str, zh: str, en: str) -> str:
    """The text in the page's language, escaped."""
    return escape(zh if lang == "zh" else en)


def e(value: object) -> str:
    return escape(str(value))


def when(epoch: float | None) -> str:
    """Local time, escaped; an em dash for never."""
    if epoch is None:
        return "—"
    return escape(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)))


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""  # pragma: no cover - the loop always returns


def duration(seconds: float, lang: str) -> str:
    s = int(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if lang == "zh":
        return f"{days}天{hours}小时{minutes}分" if days else f"{hours}小时{minutes}分"
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m"


def bar(percent: float, warn: float = 80.0, crit: float = 90.0) -> str:
    """A usage bar; the class says the level so tests and CSS can tell."""
    level = "crit" if percent >= crit else "warn" if percent >= warn else "ok"
    width = max(0.0, min(100.0, percent))
    return (
        f'<div class="bar {level}" data-percent="{percent:.1f}">'
        f'<span style="width:{width:.1f}%"></span></div>'
    )
