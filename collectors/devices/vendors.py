"""Per-platform handling of running-configuration output. Pure: bytes/text in, records out.

One explicit table, `PLATFORMS`, maps each supported netmiko platform to its rules: the command
that prints the configuration, the lines that change on every read without a real change
(timestamps, byte counts, NTP drift) and how to find the device's own host name. An unknown
platform raises an error that lists the supported ones.
"""

from __future__ import annotations

import re

from common.errors import HostwardError
from common.frozen import frozen
from common.text import utf8_else_gb18030

# Paging prompts and the cursor moves some CLIs leave behind even with paging off.
_PAGER = re.compile(r"[ \t]*-{2,4}\s*More\s*-{2,4}(?:\x1b\[\d+D[ \t]*\x1b\[\d+D)?")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class UnknownPlatform(HostwardError):
    """An SSH platform hostward has no handling for."""

    def __init__(self, platform: str) -> None:
        super().__init__(f"unknown SSH platform {platform!r}; supported: {', '.join(sorted(PLATFORMS))}")


@frozen
class Platform:
    """How one SSH platform is backed up: its netmiko device type, the command that prints the
    configuration, the lines that change by themselves, and where the host name is."""

    netmiko_type: str
    command: str
    volatile: tuple[re.Pattern[str], ...]
    hostname: re.Pattern[str] | None


@frozen
class RunningConfig:
    """A configuration as stored: normalised text, and the host name the device calls itself."""

    platform: str
    text: str
    hostname: str

    @property
    def lines(self) -> int:
        return self.text.count("\n")


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


_CISCO_VOLATILE = _rx(
    r"^Building configuration\.\.\.$",
    r"^Current configuration\s*:\s*\d+ bytes$",
    r"^! Last configuration change at ",
    r"^! NVRAM config last updated at ",
    r"^! No configuration change since last restart",
    r"^ntp clock-period \d+$",
)
_COMWARE_HUAWEI_VOLATILE = _rx(
    r"^!Software Version ",
    r"^!Last configuration was (updated|saved) at ",
    r"^!Time:",
    r"^#saved by ",
)

PLATFORMS: dict[str, Platform] = {
    "cisco_ios": Platform(
        "cisco_ios", "show running-config", _CISCO_VOLATILE, re.compile(r"^hostname (\S+)")
    ),
    "huawei": Platform(
        "huawei", "display current-configuration", _COMWARE_HUAWEI_VOLATILE, re.compile(r"^\s*sysname (\S+)")
    ),
    "hp_comware": Platform(
        "hp_comware",
        "display current-configuration",
        _COMWARE_HUAWEI_VOLATILE,
        re.compile(r"^\s*sysname (\S+)"),
    ),
    "ruijie_os": Platform(
        "ruijie_os", "show running-config", _CISCO_VOLATILE, re.compile(r"^hostname (\S+)")
    ),
    "linux": Platform("linux", "cat /etc/hostname /etc/hosts", (), None),
}


def platform(name: str) -> Platform:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise UnknownPlatform(name) from None


def decode_output(raw: bytes, encoding: str = "auto") -> str:
    """CLI bytes -> text. `auto`: UTF-8 if it decodes, else GB18030 (a superset of GBK, which
    Chinese-market Huawei/H3C/Ruijie gear uses for descriptions and banners)."""
    if encoding == "utf-8":
        return raw.decode("utf-8", "replace")
    if encoding == "gbk":
        return raw.decode("gb18030", "replace")
    return utf8_else_gb18030(raw)


def normalize(platform_name: str, text: str, command: str = "") -> RunningConfig:
    """Strip paging debris, the echoed command, prompts and volatile lines; find the host name.

    The result changes only when the configuration does, so comparing two of them is a change
    detector (a timestamp line alone is not a change).
    """
    rules = platform(platform_name)
    command = command or rules.command
    text = _PAGER.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _ANSI.sub("", text)
    out: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if _is_prompt_echo(line, command):
            continue
        if any(p.search(line) for p in rules.volatile):
            continue
        out.append(line)
    while out and not out[0].strip():
        out.pop(0)
    while out and (not out[-1].strip() or _is_prompt(out[-1])):
        out.pop()
    hostname = ""
    if rules.hostname is not None:
        for line in out:
            match = rules.hostname.match(line)
            if match:
                hostname = match.group(1)
                break
    return RunningConfig(platform_name, "\n".join(out) + "\n" if out else "", hostname)


def _is_prompt_echo(line: str, command: str) -> bool:
    """`<HUAWEI>display current-configuration`, `sw1#show running-config`, a bare echo."""
    stripped = line.strip()
    return bool(stripped) and (
        stripped == command or (stripped.endswith(command) and _is_prompt(stripped[: -len(command)]))
    )


def _is_prompt(text: str) -> bool:
    text = text.strip()
    return bool(re.fullmatch(r"(<[^<>\s]+>|\[~?\*?[^\[\]\s]+\]|[\w.\-()/]+[#>])", text))
