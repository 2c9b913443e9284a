"""systemd unit state through the runner: `systemctl show -p LoadState,ActiveState,UnitFileState`."""

from __future__ import annotations

from collectors.system.evidence import NoEvidence
from collectors.system.runner import Runner
from common.errors import CommandError
from common.frozen import frozen

TIMEOUT = 10.0
MAX_OUTPUT = 64 * 1024


@frozen
class UnitState:
    """A systemd unit's load, active and unit-file state."""

    name: str
    load_state: str  # loaded, not-found, masked, ...
    active_state: str  # active, inactive, failed, activating, ...
    unit_file_state: str  # enabled, disabled, static, masked, "" when not found

    @property
    def active(self) -> bool:
        return self.active_state == "active"

    @property
    def enabled(self) -> bool:
        return self.unit_file_state in (
            "enabled",
            "enabled-runtime",
            "alias",
            "static",
            "indirect",
            "generated",
        )


def parse_show(name: str, text: str) -> UnitState:
    values = dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)
    if "ActiveState" not in values or "LoadState" not in values:
        raise NoEvidence(
            f"systemctl show {name}",
            "no ActiveState/LoadState in its output",
            "输出中没有 ActiveState/LoadState",
        )
    return UnitState(name, values["LoadState"], values["ActiveState"], values.get("UnitFileState", ""))


def read_unit(runner: Runner, name: str) -> UnitState:
    argv = ("systemctl", "show", "-p", "LoadState,ActiveState,UnitFileState", "--", name)
    where = f"systemctl show {name}"
    try:
        result = runner.run(argv, timeout=TIMEOUT, max_output=MAX_OUTPUT)
    except CommandError as exc:
        raise NoEvidence(where, f"could not run systemctl: {exc}", f"无法运行 systemctl：{exc}") from exc
    if result.timed_out or result.truncated or not result.ok:
        why = "timed out" if result.timed_out else "output cut" if result.truncated else result.stderr_tail()
        raise NoEvidence(where, f"failed: {why}", f"失败：{why}")
    return parse_show(name, result.stdout.decode("utf-8", "replace"))
