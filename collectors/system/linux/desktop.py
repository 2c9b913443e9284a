"""Screen lock settings: GNOME dconf system databases and the shell's TMOUT."""

from __future__ import annotations

import os
import re

from collectors.system.files import list_dir, read_dir_texts, read_text
from common.frozen import frozen

_TMOUT = re.compile(r"^\s*(?:readonly\s+|export\s+|declare\s+-r\s+)*TMOUT=(\d+)", re.M)
_SHELL_FILES = ("/etc/profile", "/etc/bash.bashrc")


@frozen
class ScreenLock:
    """The screen-lock settings found (None where none is set), and the files they came from."""

    idle_delay_seconds: int | None  # org/gnome/desktop/session idle-delay
    lock_enabled: bool | None  # org/gnome/desktop/screensaver lock-enabled
    shell_tmout_seconds: int | None  # TMOUT in system shell profiles
    sources: tuple[str, ...]


def parse_dconf_keyfile(text: str) -> dict[tuple[str, str], str]:
    """[section] key=value -> {(section, key): value}."""
    out = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[(section, key.strip())] = value.strip()
    return out


def read_screen_lock(root: str | os.PathLike[str] = "/") -> ScreenLock:
    idle: int | None = None
    lock: bool | None = None
    sources = []
    for db in list_dir(root, "/etc/dconf/db"):
        if not db.endswith(".d"):
            continue
        for path, text in read_dir_texts(root, f"/etc/dconf/db/{db}", ""):
            values = parse_dconf_keyfile(text)
            delay = values.get(("org/gnome/desktop/session", "idle-delay"))
            enabled = values.get(("org/gnome/desktop/screensaver", "lock-enabled"))
            if delay is not None:
                idle = int(delay.split()[-1])
                sources.append(path)
            if enabled is not None:
                lock = enabled.lower() == "true"
                sources.append(path)
    tmout: int | None = None
    shell_texts: list[tuple[str, str | None]] = [(p, read_text(root, p)) for p in _SHELL_FILES]
    shell_texts += list(read_dir_texts(root, "/etc/profile.d", ".sh"))
    for shell_path, shell_text in shell_texts:
        match = _TMOUT.search(shell_text or "")
        if match:
            tmout = int(match.group(1))
            sources.append(shell_path)
    return ScreenLock(idle, lock, tmout, tuple(dict.fromkeys(sources)))
