"""Kernel modules and mounts: modprobe.d configuration, /proc/modules, /proc/mounts, block devices."""

from __future__ import annotations

import os
from dataclasses import field

from collectors.system.files import list_dir, read_dir_texts, read_text
from common.frozen import frozen

MODPROBE_DIRS = ("/etc/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d", "/run/modprobe.d")
DISABLED_INSTALL = frozenset({"/bin/false", "/usr/bin/false", "/bin/true", "/usr/bin/true"})


def norm_module(name: str) -> str:
    """Module names treat '-' and '_' alike (usb-storage == usb_storage)."""
    return name.replace("-", "_")


@frozen
class ModprobeConfig:
    """What modprobe.d says about modules: `blacklist` lines and `install` overrides, with files."""

    blacklist: dict[str, str] = field(default_factory=dict)  # module -> file
    install: dict[str, tuple[str, str]] = field(default_factory=dict)  # module -> (command, file)

    def install_disabled(self, module: str) -> bool:
        """True when `modprobe module` runs /bin/false (or true) instead of loading it."""
        entry = self.install.get(norm_module(module))
        if entry is None:
            return False
        command = entry[0].split()
        return bool(command) and command[0] in DISABLED_INSTALL


def parse_modprobe(files: list[tuple[str, str]]) -> ModprobeConfig:
    """Files in modprobe's order (by name; /etc overrides others with the same name)."""
    blacklist: dict[str, str] = {}
    install: dict[str, tuple[str, str]] = {}
    for path, text in files:
        for raw in text.replace("\\\n", " ").splitlines():
            words = raw.split("#", 1)[0].split()
            if len(words) >= 2 and words[0] == "blacklist":
                blacklist[norm_module(words[1])] = path
            elif len(words) >= 3 and words[0] == "install":
                install[norm_module(words[1])] = (" ".join(words[2:]), path)
    return ModprobeConfig(blacklist, install)


def read_modprobe(root: str | os.PathLike[str] = "/") -> ModprobeConfig:
    chosen: dict[str, tuple[str, str]] = {}
    for directory in reversed(MODPROBE_DIRS):  # /etc last, so it wins on equal names
        for path, text in read_dir_texts(root, directory, ".conf"):
            chosen[os.path.basename(path)] = (path, text)
    return parse_modprobe([chosen[name] for name in sorted(chosen)])


def read_loaded_modules(root: str | os.PathLike[str] = "/") -> set[str] | None:
    """Loaded module names from /proc/modules; None when there is no /proc (offline image)."""
    text = read_text(root, "/proc/modules")
    if text is None:
        return None
    return {norm_module(line.split()[0]) for line in text.splitlines() if line.strip()}


def read_boot_time(root: str | os.PathLike[str] = "/") -> float | None:
    """Boot time (Unix seconds) from /proc/stat's btime; None without /proc."""
    text = read_text(root, "/proc/stat")
    for line in (text or "").splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return None


@frozen
class Mount:
    """One line of /proc/mounts: device, mount point and filesystem type."""

    device: str
    mountpoint: str
    fstype: str


def parse_mounts(text: str) -> list[Mount]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            mountpoint = parts[1].replace("\\040", " ")
            out.append(Mount(parts[0], mountpoint, parts[2]))
    return out


def read_mounts(root: str | os.PathLike[str] = "/") -> list[Mount] | None:
    text = read_text(root, "/proc/mounts")
    return parse_mounts(text) if text is not None else None


def removable_block_devices(root: str | os.PathLike[str] = "/") -> set[str]:
    """Names of block devices the kernel marks removable (/sys/block/*/removable == 1)."""
    out = set()
    for name in list_dir(root, "/sys/block"):
        flag = read_text(root, f"/sys/block/{name}/removable")
        if flag is not None and flag.strip() == "1":
            out.add(name)
    return out
