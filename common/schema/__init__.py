"""One strict, self-documenting schema machinery for YAML files (config and policy files).

A schema is a tree of frozen dataclasses whose fields carry help text (`setting(...)`).
`load_text`/`load_file` turn YAML into those dataclasses or raise `SchemaError` listing every
problem at once as `FILE:LINE: key.path: message`; `render_default` prints the fully commented
default. Only plain YAML is read: no tags beyond the core ones, no anchors or aliases, a size
limit, duplicate keys refused.

The reading and rendering load at their first use: defining a schema, or holding settings read
by another process (the daemon's config, agent/config/apart.py), needs no YAML parser.
"""

from typing import TYPE_CHECKING, Any

from common.schema.fields import Duration, parse_duration, setting
from common.schema.problems import MAX_BYTES, Problem, SchemaError

if TYPE_CHECKING:
    from common.schema.loader import load_file, load_text
    from common.schema.render import render_default

__all__ = [
    "MAX_BYTES",
    "Duration",
    "Problem",
    "SchemaError",
    "load_file",
    "load_text",
    "parse_duration",
    "render_default",
    "setting",
]


def __getattr__(name: str) -> Any:
    if name in ("load_file", "load_text"):
        from common.schema import loader

        return getattr(loader, name)
    if name == "render_default":
        from common.schema import render

        return render.render_default
    raise AttributeError(f"module 'common.schema' has no attribute {name!r}")
