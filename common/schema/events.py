"""Looking at a YAML document before composing it, and finding nodes by path afterwards.

Composing a document recurses once per nesting level, so `[[[[…` a few thousand deep
exhausts the stack (RecursionError, not a YAML error), and aliases can expand a small
file a billion-fold. The event stream is read without recursion: it tells where the
aliases are and how deep the nesting goes, so both are refused before composing.
"""

from __future__ import annotations

import re

import yaml

MAX_DEPTH = 64  # no config or policy file nests past a dozen levels


def scan(text: str, loader: type[yaml.SafeLoader] | None = None) -> tuple[list[int], int | None]:
    """(lines of every alias, the line where nesting first passes MAX_DEPTH or None).
    Raises yaml.YAMLError on a syntax error met on the way. `loader`: the pure-Python
    SafeLoader unless given (the loader passes libyaml's when it has it)."""
    aliases: list[int] = []
    depth = 0
    for event in yaml.parse(text, Loader=loader or yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases.append(line_of(event.start_mark))
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return aliases, line_of(event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return aliases, None


def line_of(mark: object) -> int:
    line = getattr(mark, "line", None)
    return line + 1 if isinstance(line, int) else 0


def node_at(node: yaml.Node, sub: str) -> yaml.Node:
    """The node `sub` ("devices[1].name") names below `node`, or the deepest one found,
    so a cross-field problem points at the offending line, not at its section."""
    for step in re.findall(r"[^.\[\]]+|\[\d+\]", sub):
        if isinstance(node, yaml.SequenceNode) and step.startswith("["):
            index = int(step[1:-1])
            if index >= len(node.value):
                break
            node = node.value[index]
        elif isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step]
            if not found:
                break
            node = found[0]
        else:
            break
    return node
