"""Load the policy library: the built-in files plus users' own, validated, with last-good fallback.

Every file is read with the strict schema. Across files, check ids must be unique, every rule id
a check names must exist in the catalogue, and every probe must exist; each problem is located
as `FILE:LINE`. A user file that fails is left out (or its last good version kept, in a
long-running agent) while the rest of the library stays in force.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import field
from pathlib import Path

import yaml

from common.frozen import frozen
from common.schema import MAX_BYTES, Problem, SchemaError, load_text
from common.schema.loader import read_regular
from policies.conditions import kinds_in
from policies.schema import CheckSpec, PolicyFile, RuleSpec

BUILTIN_DIR = Path(__file__).parent / "library"


@frozen
class Library:
    """The policy library in force: the rules by id, the checks, and the file each check came from."""

    rules: dict[str, RuleSpec]
    checks: tuple[CheckSpec, ...]
    origin: dict[str, str] = field(default_factory=dict)  # check id -> file

    def check(self, check_id: str) -> CheckSpec:
        for spec in self.checks:
            if spec.id == check_id:
                return spec
        raise KeyError(check_id)


def _id_lines(text: bytes) -> dict[tuple[str, int], int]:
    """(section, index) -> line of that item's `id:` value, for locating cross-file problems.

    Only called on text the strict schema already accepted (no tags, aliases or huge input), so
    the C composer (libyaml) is used when present: this pass only reads line numbers, and the
    pure-Python one doubled the library's load time (the audit's 1 s budget).
    """
    node = yaml.compose(text.decode("utf-8-sig"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out: dict[tuple[str, int], int] = {}
    if not isinstance(node, yaml.MappingNode):
        return out
    for key, value in node.value:
        if key.value in ("rules", "checks") and isinstance(value, yaml.SequenceNode):
            for i, item in enumerate(value.value):
                line = item.start_mark.line + 1
                if isinstance(item, yaml.MappingNode):
                    for k, v in item.value:
                        if k.value == "id":
                            line = v.start_mark.line + 1
                out[(key.value, i)] = line
    return out


def _files(directory: str | os.PathLike[str]) -> list[Path]:
    path = Path(directory)
    if not path.is_dir():  # a file; a FIFO (refused by its reader); a missing path (a problem)
        return [path]
    return sorted(p for p in path.glob("*.yaml") if p.is_file())


@frozen
class LoadedFile:
    """One policy file accepted, with the line of each rule's and check's `id:` ((section, index) ->
    line), to locate problems found across files."""

    policy: PolicyFile
    id_lines: dict[tuple[str, int], int]


def load_files(paths: Iterable[Path]) -> tuple[dict[str, LoadedFile], list[Problem]]:
    """Each file validated alone: the good ones, and every problem of the bad ones."""
    good: dict[str, LoadedFile] = {}
    problems: list[Problem] = []
    for path in paths:
        name = str(path)
        try:
            data = read_regular(str(path), MAX_BYTES)
        except FileNotFoundError:  # a mistyped path never validates as "no problems"
            problems.append(Problem(name, 0, "", "does not exist: no policy file or directory here"))
            continue
        except OSError as exc:
            problems.append(Problem(name, 0, "", f"cannot read: {exc.strerror or exc}"))
            continue
        if len(data) > MAX_BYTES:
            problems.append(Problem(name, 0, "", f"file is larger than {MAX_BYTES} bytes"))
            continue
        try:
            loaded = LoadedFile(load_text(PolicyFile, data, name), _id_lines(data))
        except SchemaError as exc:
            problems.extend(exc.problems)
            continue
        unsafe = _unsafe_commands(path, loaded.policy)
        if unsafe:
            problems.append(Problem(name, 0, "", unsafe))
            continue
        good[name] = loaded
    return good, problems


def _unsafe_commands(path: Path, policy: PolicyFile) -> str | None:
    """A file whose `command` conditions anyone but root (its owner) could rewrite would let that
    person run programs as the agent: refused (POSIX; on Windows the ACLs of the install apply)."""
    if os.name != "posix" or not any("command" in kinds_in(c.probe.conditions()) for c in policy.checks):
        return None
    st = path.stat()
    if st.st_mode & 0o022 or st.st_uid not in (0, os.geteuid()):
        return (
            f"holds command conditions but is writable by others (mode {st.st_mode & 0o777:04o}, "
            f"UID {st.st_uid}): the agent would run what they write; chmod 644 and chown root"
        )
    return None


def assemble(files: dict[str, LoadedFile], probe_names: Iterable[str]) -> tuple[Library, list[Problem]]:
    """Join files in order; a check with a duplicate id, unknown rule or unknown probe is dropped."""
    known_probes = set(probe_names)
    problems: list[Problem] = []
    rules: dict[str, RuleSpec] = {}
    rule_origin: dict[str, str] = {}
    lines = {path: loaded.id_lines for path, loaded in files.items()}
    for path, loaded in files.items():
        for i, rule in enumerate(loaded.policy.rules):
            if rule.id in rules:
                where = lines[path].get(("rules", i), 0)
                problems.append(
                    Problem(
                        path,
                        where,
                        f"rules[{i}].id",
                        f"duplicate rule id {rule.id!r} (first in {rule_origin[rule.id]})",
                    )
                )
                continue
            rules[rule.id] = rule
            rule_origin[rule.id] = path
    checks: list[CheckSpec] = []
    origin: dict[str, str] = {}
    for path, loaded in files.items():
        for i, check in enumerate(loaded.policy.checks):
            where = lines[path].get(("checks", i), 0)
            sub = f"checks[{i}]"
            if check.id in origin:
                problems.append(
                    Problem(
                        path,
                        where,
                        f"{sub}.id",
                        f"duplicate check id {check.id!r} (first in {origin[check.id]})",
                    )
                )
                continue
            unknown = [r for r in check.rules if r not in rules]
            if unknown:
                problems.append(
                    Problem(path, where, f"{sub}.rules", f"unknown rule ids: {', '.join(unknown)}")
                )
                continue
            if check.probe.name not in known_probes:
                problems.append(
                    Problem(
                        path,
                        where,
                        f"{sub}.probe.name",
                        f"unknown probe {check.probe.name!r}; known: {', '.join(sorted(known_probes))}",
                    )
                )
                continue
            checks.append(check)
            origin[check.id] = path
    return Library(rules, tuple(checks), origin), problems


class PolicyStore:
    """Keeps the last good version of each policy file, so a broken edit never empties the library.

    `load()` returns the library in force and the problems found this time. The built-in files
    must always be valid (a test guarantees it); user files come after them.
    """

    def __init__(self, extra_dirs: Iterable[str] = (), builtin_dir: Path = BUILTIN_DIR) -> None:
        self.builtin_dir = builtin_dir
        self.extra_dirs = tuple(extra_dirs)
        self._last_good: dict[str, LoadedFile] = {}

    def load(self) -> tuple[Library, list[Problem]]:
        from policies.probes import PROBES  # the registry; imported here to keep this module light

        paths = _files(self.builtin_dir)
        for directory in self.extra_dirs:
            paths.extend(_files(directory))
        good, problems = load_files(paths)
        in_force: dict[str, LoadedFile] = {}
        for path in paths:
            key = str(path)
            if key in good:
                self._last_good[key] = good[key]
                in_force[key] = good[key]
            elif key in self._last_good:
                in_force[key] = self._last_good[key]  # keep the last good version in force
        library, more = assemble(in_force, PROBES)
        return library, sorted(problems + more)


def load_library(extra_dirs: Iterable[str] = ()) -> tuple[Library, list[Problem]]:
    """One-shot load (the CLI): built-in plus user files; bad user files reported and left out."""
    return PolicyStore(extra_dirs).load()
