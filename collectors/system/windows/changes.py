"""Windows changes for enforcement: fixed PowerShell scripts (no data templated into them)."""

from __future__ import annotations

from collectors.system.runner import CommandResult, Runner
from collectors.system.windows.powershell import POWERSHELL, TIMEOUT

SCRIPTS = {
    "disable_user": "Disable-LocalUser -Name $env:HOSTWARD_ACCOUNT -ErrorAction Stop",
    "disable_adapter": "Disable-NetAdapter -Name $env:HOSTWARD_ADAPTER -Confirm:$false -ErrorAction Stop",
    "password_expires": "Set-LocalUser -Name $env:HOSTWARD_ACCOUNT -PasswordNeverExpires $false "
    "-ErrorAction Stop",
}
# The USB lockdown writes the registry directly (collectors/system/windows/registry.py).


def disable_user(runner: Runner, account: str) -> CommandResult:
    """Disable a local account. The name travels in the environment, never in the script text."""
    return runner.run(
        (*POWERSHELL, SCRIPTS["disable_user"]), timeout=TIMEOUT, env={"HOSTWARD_ACCOUNT": account}
    )


def password_expires(runner: Runner, account: str) -> CommandResult:
    """Clear "password never expires" on a local account (name passed in the environment)."""
    return runner.run(
        (*POWERSHELL, SCRIPTS["password_expires"]), timeout=TIMEOUT, env={"HOSTWARD_ACCOUNT": account}
    )


def set_max_password_age(runner: Runner, days: int) -> CommandResult:
    """The local maximum password age; `net accounts` is run for its exit code only."""
    return runner.run(("net.exe", "accounts", f"/maxpwage:{int(days)}"), timeout=TIMEOUT)


def disable_adapter(runner: Runner, adapter: str) -> CommandResult:
    """Disable a network adapter (Wi-Fi, cellular); its name travels in the environment."""
    return runner.run(
        (*POWERSHELL, SCRIPTS["disable_adapter"]), timeout=TIMEOUT, env={"HOSTWARD_ADAPTER": adapter}
    )
