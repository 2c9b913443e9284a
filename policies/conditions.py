"""Generic conditions an officer writes in YAML (probe `conditions`), as Wazuh SCA offers.

Structured fields, not a string mini-language: each condition names exactly one kind (file,
command, package, service, kernel_module, sysctl, port, process, registry, security_policy) or
combines others with `all`, `any` or `none`. Validated by the same schema machinery as the rest
of the library, so every mistake is reported as `FILE:LINE: key.path: message`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields
from typing import Literal

from common.frozen import frozen
from common.schema import setting

KINDS = (
    "file",
    "command",
    "package",
    "service",
    "kernel_module",
    "sysctl",
    "port",
    "process",
    "registry",
    "security_policy",
)
COMBINATORS = ("all", "any", "none")
WINDOWS_ONLY = frozenset({"registry", "security_policy"})
LINUX_ONLY = frozenset({"kernel_module", "sysctl"})


def _regex(value: object) -> str | None:
    if value is None:
        return None
    try:
        re.compile(str(value), re.MULTILINE)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return None


def _absolute(value: object) -> str | None:
    text = str(value)
    if text.startswith("/") or re.match(r"^[A-Za-z]:\\", text):
        return None
    return "must be an absolute path (/etc/... or C:\\...)"


def _mode(value: object) -> str | None:
    ok = value is None or (isinstance(value, str) and re.fullmatch(r"0?[0-7]{3,4}", value))
    return None if ok else 'must be an octal mode in quotes, e.g. "0600"'


def _argv(value: object) -> str | None:
    return None if isinstance(value, tuple) and value else "name the program and its arguments as a list"


def _timeout(value: object) -> str | None:
    return None if isinstance(value, int) and 1 <= value <= 60 else "must be 1 to 60 seconds"


def _port(value: object) -> str | None:
    return None if isinstance(value, int) and 1 <= value <= 65535 else "must be a port, 1 to 65535"


def _registry_key(value: object) -> str | None:
    hive = str(value).partition("\\")[0].upper()
    ok = hive in ("HKLM", "HKEY_LOCAL_MACHINE", "HKCU", "HKEY_CURRENT_USER") and "\\" in str(value)
    return None if ok else "must be a key under HKLM or HKCU, e.g. HKLM\\SOFTWARE\\..."


@frozen
class FileCondition:
    """A file on the audited system: present or absent, its mode, owner, or lines it must (not) match."""

    path: str = setting(doc="Absolute path on the audited system (under --root).", check=_absolute)
    exists: bool = setting(True, "true: the file must exist; false: it must be absent.")
    mode: str | None = setting(None, 'Exact permission bits, e.g. "0600".', check=_mode)
    mode_max: str | None = setting(None, 'No permission bit beyond these, e.g. "0644".', check=_mode)
    owner: str | None = setting(None, "Owning user name (from the root's /etc/passwd) or UID.")
    matches: str | None = setting(None, "A regular expression some line must match.", check=_regex)
    not_matches: str | None = setting(None, "A regular expression no line may match.", check=_regex)

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.exists and any(
            v is not None for v in (self.mode, self.mode_max, self.owner, self.matches, self.not_matches)
        ):
            yield "exists", "an absent file has no mode, owner or content to check"


@frozen
class CommandCondition:
    """A program run (never through a shell): the exit code and the output it must give."""

    argv: tuple[str, ...] = setting(doc="The program and its arguments; never a shell.", check=_argv)
    exit_code: int | None = setting(0, "The exit code it must return (null: any).")
    output_matches: str | None = setting(None, "Regex its output must match.", check=_regex)
    output_not_matches: str | None = setting(None, "Regex its output may not match.", check=_regex)
    timeout: int = setting(10, "Seconds before it is stopped (an error, never a pass).", check=_timeout)


@frozen
class PackageCondition:
    """A package (or Windows program) installed or absent."""

    name: str = setting(doc="Package name (dpkg, rpm) or Windows program DisplayName (glob).")
    installed: bool = setting(True, "true: must be installed; false: must be absent.")


@frozen
class ServiceCondition:
    """A service running and/or enabled at boot, or not."""

    name: str = setting(doc="systemd unit (sshd.service) or Windows service name.")
    active: bool | None = setting(None, "true: must be running; false: must not be.")
    enabled: bool | None = setting(None, "true: starts at boot; false: must not.")

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.active is None and self.enabled is None:
            yield "", "say active and/or enabled"


@frozen
class KernelModuleCondition:
    """A kernel module blocked from loading, blacklisted, or loaded now."""

    name: str = setting(doc="Module name (usb-storage and usb_storage are the same).")
    loadable: bool | None = setting(None, "false: an 'install NAME /bin/false' line must block it.")
    blacklisted: bool | None = setting(None, "true: a 'blacklist NAME' line must exist.")
    loaded: bool | None = setting(None, "Whether it may be in /proc/modules now (live only).")

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.loadable is None and self.blacklisted is None and self.loaded is None:
            yield "", "say loadable, blacklisted and/or loaded"


@frozen
class SysctlCondition:
    """A kernel parameter's value, running, configured or both."""

    key: str = setting(doc="The key, e.g. net.ipv4.ip_forward.", check=lambda v: _key(v))
    value: str = setting(doc="The value it must have (whitespace-insensitive).")
    source: Literal["both", "running", "configured"] = setting(
        "both", "running (/proc/sys), configured (sysctl.d files) or both."
    )


def _key(value: object) -> str | None:
    ok = isinstance(value, str) and re.fullmatch(r"[a-z0-9_]+([./][A-Za-z0-9_-]+)+", value)
    return None if ok else "must be a sysctl key such as net.ipv4.ip_forward"


@frozen
class PortCondition:
    """A TCP port something listens on, or nothing does."""

    port: int = setting(doc="TCP port number.", check=_port)
    listening: bool = setting(True, "true: something must listen; false: nothing may.")
    loopback: bool = setting(True, "false: listeners on 127.0.0.1/::1 do not count.")


@frozen
class ProcessCondition:
    """A process running, or not."""

    name: str = setting(doc="Process name (glob, case-insensitive).")
    running: bool = setting(True, "true: must be running; false: must not be.")


@frozen
class RegistryCondition:
    """A Windows registry value: present or absent, and what it holds."""

    key: str = setting(doc="Key, e.g. HKLM\\SOFTWARE\\Policies\\...", check=_registry_key)
    name: str = setting(doc="Value name.")
    exists: bool = setting(True, "true: the value must exist; false: it must be absent.")
    equals: str | None = setting(None, "The value it must hold (DWORDs as decimal text).")
    matches: str | None = setting(None, "Regex the value must match.", check=_regex)


@frozen
class SecurityPolicyCondition:
    """A Windows security policy setting (a secedit export): its value or its bounds."""

    section: str = setting(doc='INF section of a secedit export, e.g. "System Access".')
    key: str = setting(doc="Key in it, e.g. EnableGuestAccount.")
    equals: str | None = setting(None, "The value it must hold.")
    at_least: int | None = setting(None, "Smallest acceptable number.")
    at_most: int | None = setting(None, "Largest acceptable number.")


@frozen
class Condition:
    """Exactly one kind, or a combination (`all`, `any`, `none`) of conditions."""

    file: FileCondition | None = setting(None, "A file's existence, mode, owner or content.")
    command: CommandCondition | None = setting(None, "A command's exit code and output.")
    package: PackageCondition | None = setting(None, "A package installed or absent.")
    service: ServiceCondition | None = setting(None, "A service running and/or enabled.")
    kernel_module: KernelModuleCondition | None = setting(None, "A kernel module blocked or loaded.")
    sysctl: SysctlCondition | None = setting(None, "A kernel parameter, running and configured.")
    port: PortCondition | None = setting(None, "A TCP port listening or not.")
    process: ProcessCondition | None = setting(None, "A process running or not.")
    registry: RegistryCondition | None = setting(None, "A Windows registry value.")
    security_policy: SecurityPolicyCondition | None = setting(None, "A Windows security policy.")
    all: tuple[Condition, ...] | None = setting(None, "Every one holds.")
    any: tuple[Condition, ...] | None = setting(None, "At least one holds.")
    none: tuple[Condition, ...] | None = setting(None, "None holds.")

    def kind(self) -> str:
        return next(f.name for f in fields(self) if getattr(self, f.name) is not None)

    def problems(self) -> Iterator[tuple[str, str]]:
        named = [f.name for f in fields(self) if getattr(self, f.name) is not None]
        if len(named) != 1:
            yield "", f"name exactly one of {', '.join(KINDS + COMBINATORS)} (found {len(named)})"
        for name in COMBINATORS:
            if getattr(self, name) == ():
                yield name, "list at least one condition"


def kinds_in(conditions: tuple[Condition, ...]) -> set[str]:
    """Every kind used in `conditions`, at any depth."""
    out: set[str] = set()
    for cond in conditions:
        kind = cond.kind()
        if kind in COMBINATORS:
            out |= kinds_in(getattr(cond, kind))
        else:
            out.add(kind)
    return out
