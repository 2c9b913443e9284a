"""What enforcement returns and is given: Salt-style change records and the enforce context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field
from typing import Any

from collectors.system.linux import changes
from collectors.system.runner import Runner
from collectors.system.windows.registry import Registry, RegValue
from common.errors import HostwardError
from common.frozen import frozen
from policies.context import AuditInputs, Target
from policies.schema import CheckSpec, Parameters
from policies.undo import UndoLog


@frozen
class Change:
    """One enforcement step, Salt-style: `result` True done (or nothing to do), None would be done
    (dry run), False failed; `changes` what it changed and `comment` what happened."""

    name: str
    check: str
    result: bool | None
    changes: dict[str, Any] = field(default_factory=dict)
    comment: str = ""
    waived: dict[str, str] | None = None  # a waiver kept this check unchanged: approver, expiry...

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "check": self.check,
            "result": self.result,
            "changes": self.changes,
            "comment": self.comment,
        }
        if self.waived is not None:
            out["waived"] = self.waived
        return out


@frozen
class EnforceContext:
    """Everything enforcement runs with: the target, the runner, the audit inputs, whether it is a dry
    run, the undo log and the registry."""

    target: Target
    runner: Runner
    inputs: AuditInputs
    dry_run: bool
    undo: UndoLog | None = None  # the crash-safety log (policies/undo.py); None: no log kept
    registry: Registry | None = None  # Windows: None means the local registry


def set_registry(ctx: EnforceContext, registry: Registry, key: str, name: str, value: RegValue) -> None:
    """Set one registry value, its old value (or absence) saved in the undo log first.
    Raises HostwardError (the undo log or the value cannot be written)."""
    if ctx.undo is not None:
        ctx.undo.remember_registry(registry, key, name)
    registry.set(key, name, value)


def write_file(ctx: EnforceContext, path: str, content: str, mode: int = 0o644) -> None:
    """Replace `path` under the target root, its old content saved in the undo log first.
    Raises HostwardError (the undo log or the file cannot be written)."""
    if ctx.undo is not None:
        ctx.undo.remember_file(path)
    changes.write_file_atomic(ctx.target.root, path, content, mode)


Action = Callable[[EnforceContext, CheckSpec, Parameters], list[Change]]


def run_command(
    ctx: EnforceContext, name: str, check: str, what: dict[str, Any], run: Callable[[], Any]
) -> Change:
    """Dry run: would change. Else run it; a failed command is result False with its stderr."""
    if ctx.dry_run:
        return Change(name, check, None, what, "would change (dry run)")
    try:
        if ctx.undo is not None:
            ctx.undo.note_command(name, check)
        result = run()
    except HostwardError as exc:
        return Change(name, check, False, {}, str(exc))
    if not result.ok:
        return Change(name, check, False, {}, f"exit {result.returncode}: {result.stderr_tail()}")
    return Change(name, check, True, what, "changed")
