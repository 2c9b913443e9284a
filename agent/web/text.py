"""Small helpers every section shares: bilingual text, units, times. All return plain text
(str), which agent.web.markup escapes where it meets HTML; nothing here escapes."""

from __future__ import annotations

import time

LANGS = ("zh", "en")


def t(lang: str, zh: str, en: str) -> str:
    """The text in the page's language."""
    return zh if lang == "zh" else en


def when(epoch: float | None) -> str:
    """Local time; an em dash for never."""
    if epoch is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


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

