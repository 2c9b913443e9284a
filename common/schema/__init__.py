"""One strict, self-documenting schema machinery for YAML files (config and policy files).

A schema is a tree of frozen dataclasses whose fields carry help text (`setting(...)`).
`load_text`/`load_file` turn YAML into those dataclasses or raise `SchemaError` listing every
problem at once as `FILE:LINE: key.path: message`; `render_default` prints the fully commented
default. Only plain YAML is read: no tags beyond the core ones, no anchors or aliases, a size
limit, duplicate keys refused.
"""

from common.schema.fields import Duration, parse_duration, setting
from common.schema.loader import (
    MAX_BYTES,
    Problem,
    SchemaError,
    load_file,
    load_text,
)
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
