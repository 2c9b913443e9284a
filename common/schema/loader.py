"""Strict YAML -> frozen dataclasses, with every problem reported at once and located."""

from __future__ import annotations

import dataclasses
import errno
import functools
import os
import stat
import types
import typing
from collections.abc import Iterator
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import yaml

from common.schema.events import MAX_DEPTH, node_at, scan
from common.schema.fields import Duration, parse_duration
from common.schema.problems import MAX_BYTES, Problem, SchemaError

T = TypeVar("T")
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_KIND = {
    f"{_TAG}str": "a string",
    f"{_TAG}int": "an integer",
    f"{_TAG}float": "a number",
    f"{_TAG}bool": "true/false",
    f"{_TAG}null": "nothing (null)",
    f"{_TAG}timestamp": "a date",
    f"{_TAG}seq": "a list",
    f"{_TAG}map": "a mapping",
}
_INVALID = object()  # marks a subtree that had problems; the caller reports nothing more
# libyaml's parser where PyYAML has it (about 10x faster on a config of 200 devices); the same
# Python resolver and constructors decide every value either way.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_file(cls: type[T], path: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> T:
    """Read and validate `path` against the dataclass `cls`.

    Raises SchemaError for a missing, unreadable, oversized or invalid file; the file is
    never read past `max_bytes + 1` bytes, so a huge file costs no memory.
    """
    name = os.fspath(path)
    try:
        data = read_regular(name, max_bytes)
    except OSError as exc:
        raise SchemaError([Problem(name, 0, "", f"cannot read: {exc.strerror or exc}")]) from exc
    if len(data) > max_bytes:
        raise SchemaError([Problem(name, 0, "", f"file is larger than {max_bytes} bytes")])
    return load_text(cls, data, name)


_NO_WAIT = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_NO_WAIT |= getattr(os, "O_BINARY", 0)  # Windows


def read_regular(name: str, max_bytes: int) -> bytes:
    """At most max_bytes + 1 bytes of the regular file `name`. A FIFO (or a device, a socket)
    raises OSError "not a regular file": opened without waiting (O_NONBLOCK where the OS has
    it), never read, so `-c /some/fifo` cannot hang the agent."""
    fd = os.open(name, _NO_WAIT)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", name)
        return fh.read(max_bytes + 1)


def load_text(cls: type[T], text: str | bytes, filename: str = "<string>") -> T:
    """Validate YAML `text` against the dataclass `cls`; raises SchemaError."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SchemaError([Problem(filename, 0, "", "file is not UTF-8 text")]) from exc
    if len(text) > MAX_BYTES * 4:
        raise SchemaError([Problem(filename, 0, "", "document is too large")])
    try:
        try:
            docs = _compose(text, filename, _FAST_LOADER)
        except yaml.YAMLError:  # again in pure Python: its messages are the ones users see
            docs = _compose(text, filename, yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise SchemaError([Problem(filename, line, "", f"YAML syntax: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise SchemaError([Problem(filename, 0, "", f"YAML syntax: {exc}")]) from exc
    if len(docs) > 1:
        raise SchemaError([Problem(filename, 1, "", "expected one YAML document, found several")])
    node = docs[0] if docs else _empty_mapping(filename)
    walker = _Walker(filename)
    value = walker.convert(node, cls, "")
    if walker.problems or value is _INVALID:
        raise SchemaError(walker.problems)
    return typing.cast(T, value)


@functools.lru_cache(maxsize=256)
def _type_hints(cls: Any) -> dict[str, Any]:
    """A dataclass's resolved annotations: evaluated once per class, not once per mapping (a
    config of 200 devices has 400 mappings of two classes)."""
    return typing.get_type_hints(cls)


def _compose(text: str, filename: str, loader: Any) -> list[yaml.Node]:
    alias_lines, deep_line = scan(text, loader)
    if deep_line is not None:  # composing it would exhaust the stack
        message = f"YAML nesting deeper than {MAX_DEPTH} levels"
        raise SchemaError([Problem(filename, deep_line, "", message)])
    if alias_lines:  # refused before composing: an alias bomb never grows
        more = f" ({len(alias_lines)} in this file)" if len(alias_lines) > 1 else ""
        message = f"YAML aliases (*name) are not allowed{more}"
        raise SchemaError([Problem(filename, alias_lines[0], "", message)])
    return list(yaml.compose_all(text, Loader=loader))


class _Walker:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []
        self.seen: set[int] = set()

    def problem(self, node: yaml.Node, path: str, message: str) -> object:
        self.problems.append(Problem(self.filename, node.start_mark.line + 1, path, message))
        return _INVALID

    def convert(self, node: yaml.Node, tp: Any, path: str) -> Any:
        if id(node) in self.seen:
            return self.problem(node, path, "YAML anchors and aliases are not allowed")
        self.seen.add(id(node))
        if not (node.tag in _SCALAR_TAGS or node.tag in (f"{_TAG}seq", f"{_TAG}map")):
            return self.problem(node, path, f"YAML tag {node.tag!r} is not allowed")
        return self.dispatch(node, tp, path)

    def dispatch(self, node: yaml.Node, tp: Any, path: str) -> Any:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            return self.union(node, tp, path)
        if dataclasses.is_dataclass(tp):
            return self.mapping(node, tp, path)
        if origin is tuple or origin is list:
            return self.sequence(node, get_args(tp)[0], path, origin)
        if origin is dict:
            return self.dictionary(node, get_args(tp)[1], path)
        if origin is Literal:
            return self.literal(node, get_args(tp), path)
        return self.scalar(node, tp, path)

    def union(self, node: yaml.Node, tp: Any, path: str) -> Any:
        members = [a for a in get_args(tp) if a is not type(None)]
        if node.tag == f"{_TAG}null" and len(members) < len(get_args(tp)):
            return None
        if len(members) != 1:
            raise TypeError(f"schema: unions other than `X | None` are not supported: {tp}")
        return self.dispatch(node, members[0], path)

    def mapping(self, node: yaml.Node, cls: Any, path: str) -> Any:
        if not isinstance(node, yaml.MappingNode):
            return self.problem(node, path, f"expected a mapping, got {_kind(node)}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        hints = _type_hints(cls)
        values: dict[str, Any] = {}
        bad = False
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            sub = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str) or key_node.tag != f"{_TAG}str":
                self.problem(key_node, path, "keys must be plain strings")
                bad = True
            elif key in values:
                self.problem(key_node, sub, "duplicate key")
                bad = True
            elif key not in fields:
                import difflib  # only for an unknown key

                near = difflib.get_close_matches(key, list(fields), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                self.problem(key_node, sub, f"unknown key{hint}")
                bad = True
            else:
                value = self.convert(value_node, hints[key], sub)
                if value is _INVALID:
                    bad = True
                    values[key] = value
                    continue
                check = fields[key].metadata.get("check")
                message = check(value) if check else None
                if message:
                    self.problem(value_node, sub, message)
                    bad = True
                values[key] = value
        for name, f in fields.items():
            if name not in values and _required(f):
                sub = f"{path}.{name}" if path else name
                self.problem(node, sub, "required key is missing")
                bad = True
        if bad:
            return _INVALID
        instance = cls(**values)
        for sub, message in _class_checks(instance):
            where = node_at(node, sub)
            self.problem(where, f"{path}.{sub}" if path and sub else (sub or path), message)
            bad = True
        return _INVALID if bad else instance

    def sequence(self, node: yaml.Node, item: Any, path: str, origin: Any) -> Any:
        if not isinstance(node, yaml.SequenceNode):
            return self.problem(node, path, f"expected a list, got {_kind(node)}")
        items = [self.convert(n, item, f"{path}[{i}]") for i, n in enumerate(node.value)]
        if any(v is _INVALID for v in items):
            return _INVALID
        return tuple(items) if origin is tuple else items

    def dictionary(self, node: yaml.Node, item: Any, path: str) -> Any:
        if not isinstance(node, yaml.MappingNode):
            return self.problem(node, path, f"expected a mapping, got {_kind(node)}")
        out: dict[str, Any] = {}
        bad = False
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key_node.tag not in (f"{_TAG}str", f"{_TAG}int"):
                self.problem(key_node, path, "keys must be plain strings")
                bad = True
                continue
            sub = f"{path}.{key}"
            if key in out:
                self.problem(key_node, sub, "duplicate key")
                bad = True
                continue
            out[key] = self.convert(value_node, item, sub)
            bad = bad or out[key] is _INVALID
        return _INVALID if bad else out

    def literal(self, node: yaml.Node, choices: tuple[Any, ...], path: str) -> Any:
        if isinstance(node, yaml.ScalarNode) and node.value in choices:
            return node.value
        shown = ", ".join(str(c) for c in choices)
        return self.problem(node, path, f"must be one of {shown}")

    def scalar(self, node: yaml.Node, tp: Any, path: str) -> Any:
        if not isinstance(node, yaml.ScalarNode) or node.tag == f"{_TAG}null":
            return self.problem(node, path, f"expected {_expected(tp)}, got {_kind(node)}")
        raw: str = node.value
        tag = node.tag.removeprefix(_TAG)
        if tp is str:
            return raw
        if tp is bool:
            if tag != "bool":
                return self.problem(node, path, f"expected true/false, got {_kind(node)}")
            return raw.lower() in ("true", "yes", "on", "y")
        if tp is int and tag == "int":
            return int(yaml.SafeLoader.construct_yaml_int(_LOADER, node))
        if tp is float and tag in ("int", "float"):
            return float(raw.replace("_", ""))
        if tp is Duration:
            try:
                if tag in ("int", "float"):
                    return Duration(float(raw.replace("_", "")))
                return parse_duration(raw)
            except ValueError as exc:
                return self.problem(node, path, str(exc))
        if tp in (int, float):
            return self.problem(node, path, f"expected {_expected(tp)}, got {_kind(node)}")
        raise TypeError(f"schema: unsupported field type {tp!r} at {path}")


_LOADER = yaml.SafeLoader("")


def _empty_mapping(filename: str) -> yaml.MappingNode:
    mark = yaml.Mark(filename, 0, 0, 0, "", 0)
    return yaml.MappingNode(f"{_TAG}map", [], start_mark=mark, end_mark=mark)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _class_checks(instance: Any) -> Iterator[tuple[str, str]]:
    """A schema class may define `problems()` yielding (sub.path, message) for cross-field rules."""
    hook = getattr(instance, "problems", None)
    if callable(hook):
        yield from hook()


def _kind(node: yaml.Node) -> str:
    return _KIND.get(node.tag, "something else")


def _expected(tp: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", Duration: "a duration"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )
