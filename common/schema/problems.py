"""What a schema check reports: located problems, gathered in one SchemaError. No YAML here:
a process that only holds validated settings (the daemon) never loads the parser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_BYTES = 1024 * 1024  # the largest config or policy file read


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem: prints as `FILE:LINE: key.path: message`."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class SchemaError(ValueError):
    """A YAML file did not fit its schema. `problems` lists every one, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:  # pickled whole: a config checked in a child process
        return (SchemaError, (self.problems,))
