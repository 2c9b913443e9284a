"""Windows changes for enforcement: fixed PowerShell scripts (no data templated into them)."""

from __future__ import annotations

from collectors.system.runner import CommandResult, Runner
from collectors.system.windows.powershell import POWERSHELL, TIMEOUT

_DENY = (
    "$base='HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\RemovableStorageDevices'; "
    "foreach ($c in $classes) { $k=Join-Path $base $c; New-Item -Path $k -Force | Out-Null; "
    "Set-ItemProperty -Path $k -Name Deny_Read -Value 1 -Type DWord; "
    "Set-ItemProperty -Path $k -Name Deny_Write -Value 1 -Type DWord }"
)
_USBSTOR = (
    "Set-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\USBSTOR' -Name Start -Value 4 "
    "-Type DWord; "
)
SCRIPTS_ACCOUNTS = {
    "disable_user": "Disable-LocalUser -Name $env:HOSTWARD_ACCOUNT -ErrorAction Stop",
    "disable_adapter": "Disable-NetAdapter -Name $env:HOSTWARD_ADAPTER -Confirm:$false -ErrorAction Stop",
    "password_expires": "Set-LocalUser -Name $env:HOSTWARD_ACCOUNT -PasswordNeverExpires $false "
    "-ErrorAction Stop",
}
# USB-1: removable disks and phones (WPD); USB-2 adds CD/DVD and floppy drives.
SCRIPTS = {
    "usb_lockdown": _USBSTOR + "$classes=@('{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}',"
    "'{6AC27878-A6FA-4155-BA85-F98F491D4F33}','{F33FDC04-D1AC-4E8E-9A30-19BBD4B108AE}'); " + _DENY,
    "media_lockdown": _USBSTOR + "$classes=@('{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}',"
    "'{6AC27878-A6FA-4155-BA85-F98F491D4F33}','{F33FDC04-D1AC-4E8E-9A30-19BBD4B108AE}',"
    "'{53f56308-b6bf-11d0-94f2-00a0c91efb8b}','{53f56311-b6bf-11d0-94f2-00a0c91efb8b}'); " + _DENY,
}


SCRIPTS.update(SCRIPTS_ACCOUNTS)


def run_script(runner: Runner, name: str) -> CommandResult:
    return runner.run((*POWERSHELL, SCRIPTS[name]), timeout=TIMEOUT)


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
