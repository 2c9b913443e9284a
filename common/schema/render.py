"""Render the fully commented default YAML of a schema dataclass."""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, get_args, get_origin

from common.schema.fields import Duration, format_duration


def render_default(cls: type[Any], header: str = "") -> str:
    """The default document for `cls`: every key with its help text as comments.

    Loading the output with the same schema gives the default instance back (tested).
    """
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if lines:
        lines.append("")
    _render_fields(cls, cls(), 0, lines)
    return "\n".join(lines).rstrip() + "\n"


def _render_fields(cls: type[Any], instance: Any, depth: int, out: list[str]) -> None:
    hints = typing.get_type_hints(cls)
    pad = "  " * depth
    for f in dataclasses.fields(cls):
        doc = f.metadata.get("doc", "")
        if out and out[-1] != "" and depth == 0:
            out.append("")
        for line in doc.strip().splitlines():
            out.append(f"{pad}# {line}".rstrip())
        value = getattr(instance, f.name)
        tp = hints[f.name]
        if dataclasses.is_dataclass(value):
            out.append(f"{pad}{f.name}:")
            _render_fields(type(value), value, depth + 1, out)
            continue
        example = f.metadata.get("example")
        if example and _is_empty(value) and example.startswith(f"{f.name}:"):
            # A whole block, key included: uncommented (each line's "# " removed) it replaces
            # the empty default below.
            empty = f"{f.name}: {_scalar(value, tp)}"
            out.append(
                f"{pad}# for example (remove the leading '# ' of these lines, and the `{empty}` below):"
            )
            out.extend(f"{pad}# {line}".rstrip() for line in example.strip("\n").splitlines())
        elif example and _is_empty(value):
            out.append(f"{pad}# for example:")
            for line in example.strip("\n").splitlines():
                out.append(f"{pad}#   {line}".rstrip())
        out.append(f"{pad}{f.name}: {_scalar(value, tp)}")


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == () or value == [] or value == {}


def _scalar(value: Any, tp: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Duration) or tp is Duration:
        return format_duration(float(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple | list):
        if not value:
            return "[]"
        item_tp = get_args(tp)[0] if get_origin(tp) in (tuple, list) else None
        return "[" + ", ".join(_scalar(v, item_tp) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        item_tp = get_args(tp)[1] if get_origin(tp) is dict else None
        return "{" + ", ".join(f"{json.dumps(k)}: {_scalar(v, item_tp)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot render {value!r}")
