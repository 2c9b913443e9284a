"""Kernel parameters: the running value (/proc/sys) and the configured one (sysctl.d files).

The configured value is what systemd-sysctl applies at boot: files named *.conf in
/etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d and /lib/sysctl.d,
one file per name (/etc first wins), in name order, then /etc/sysctl.conf; a later
assignment wins. Every file is read under the audited root.
"""

from __future__ import annotations

import os

from collectors.system.files import read_dir_texts, read_text
from common.frozen import frozen

SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)


def norm_key(key: str) -> str:
    """sysctl accepts net/ipv4/ip_forward and net.ipv4.ip_forward alike."""
    return key.strip().replace("/", ".")


def norm_value(value: str) -> str:
    return " ".join(value.split())


@frozen
class Configured:
    """A kernel parameter's configured value, and the file that sets it."""

    value: str
    file: str


def parse_sysctl_conf(text: str, path: str, into: dict[str, Configured]) -> None:
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        into[norm_key(key.lstrip("-"))] = Configured(norm_value(value), path)


def read_configured(root: str | os.PathLike[str] = "/") -> dict[str, Configured]:
    chosen: dict[str, tuple[str, str]] = {}
    for directory in SYSCTL_DIRS:
        for path, text in read_dir_texts(root, directory, ".conf"):
            chosen.setdefault(os.path.basename(path), (path, text))  # /etc shadows the others
    out: dict[str, Configured] = {}
    for name in sorted(chosen):
        parse_sysctl_conf(chosen[name][1], chosen[name][0], out)
    main = read_text(root, "/etc/sysctl.conf")
    if main is not None:
        parse_sysctl_conf(main, "/etc/sysctl.conf", out)
    return out


def read_running(root: str | os.PathLike[str], key: str) -> str | None:
    """The running value from /proc/sys; None when the key does not exist there."""
    text = read_text(root, "/proc/sys/" + norm_key(key).replace(".", "/"))
    return None if text is None else norm_value(text)
