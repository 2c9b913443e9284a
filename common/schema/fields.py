"""Field helpers for schema dataclasses: help text, validators, durations."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], "str | None"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


class Duration(float):
    """Seconds. In YAML: a number of seconds or a string such as `90s`, `15m`, `1h30m`, `2d`."""

    def __str__(self) -> str:
        return format_duration(float(self))


def parse_duration(text: str) -> Duration:
    """`'1h30m'` -> Duration(5400.0). Raises ValueError on anything else."""
    text = text.strip()
    pos = 0
    total = 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration: {text!r} (examples: 30s, 15m, 2h, 1d)")
    return Duration(total)


def format_duration(seconds: float) -> str:
    """Duration(5400) -> '1h30m'; the shortest exact spelling."""
    if seconds == 0:
        return "0s"
    if seconds != int(seconds):
        return f"{int(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"
    rest = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)


def setting(
    default: Any = dataclasses.MISSING,
    doc: str = "",
    *,
    check: Check | None = None,
    example: str | None = None,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """A schema field: `default` (omit for a required key), help text, an optional validator.

    `check(value)` returns an error message or None. `example` is YAML shown (commented) in
    the default config where the default is empty. Mutable defaults go through `factory`.
    """
    metadata = {"doc": doc, "check": check, "example": example}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def at_least(low: float) -> Check:
    def check(value: Any) -> str | None:
        return None if value >= low else f"must be at least {low:g}"

    return check


def between(low: float, high: float) -> Check:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be between {low:g} and {high:g}"

    return check
