"""Stand-ins for the Windows and systemd tools the conditions probe runs, where the real one
cannot run here (no Windows, no systemd as PID 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policies_kit import RecordedRunner

from collectors.system.runner import CommandResult


class SeceditRunner(RecordedRunner):
    """Stands in for `secedit /export /cfg FILE`: writes a recorded export where /cfg says."""

    def __init__(self, export: Path) -> None:
        super().__init__({})
        self.export = export

    def run(self, argv: Any, *, timeout: float, env: Any = None, **_: Any) -> CommandResult:
        key = tuple(argv)
        self.calls.append(key)
        Path(key[key.index("/cfg") + 1]).write_bytes(self.export.read_bytes())
        return CommandResult(key, 0, b"The task has completed successfully.\r\n", b"", 0.1)


def systemctl(unit: str, active: str, file_state: str) -> tuple[tuple[str, ...], bytes]:
    """`systemctl show -p LoadState,ActiveState,UnitFileState -- UNIT` as systemd 252 prints it
    (an unknown unit: LoadState=not-found, ActiveState=inactive, UnitFileState= empty)."""
    argv = ("systemctl", "show", "-p", "LoadState,ActiveState,UnitFileState", "--", unit)
    load = "loaded" if file_state else "not-found"
    return argv, f"LoadState={load}\nActiveState={active}\nUnitFileState={file_state}\n".encode()
