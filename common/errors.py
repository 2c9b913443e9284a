"""The base of hostward's small error hierarchy.

Every package raises subclasses of `HostwardError`, chained with `from` to the original
error and carrying context (which command, which device, which repository). Libraries never
call `sys.exit`; only the CLI maps errors to exit codes.
"""

from __future__ import annotations


class HostwardError(Exception):
    """Base of all errors hostward raises on purpose."""


class CommandError(HostwardError):
    """A command could not be run at all (missing program, no permission)."""

    def __init__(self, argv0: str, message: str) -> None:
        super().__init__(f"{argv0}: {message}")
        self.argv0 = argv0


class CommandNotFound(CommandError):
    """The program is not installed or not on PATH."""


class CommandPermissionDenied(CommandError):
    """The program exists but may not be executed by this user."""
