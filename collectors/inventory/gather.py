"""Read the asset register of a host (ROOM-5): the live Linux or Windows host, or a Linux
root (a mounted image, a fixture tree) read with the same code, through collectors/system.

Each section is read on its own: one that fails is an `error` with its reason and the others
still stand. What a real host always has (a network adapter, installed software, a disk, an
OS) read as empty is an `error`, never an empty register; on an offline root the hardware that
exists only on a running system (/sys, /proc) is `unavailable` when absent.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from collectors.inventory.model import Inventory, Memory, Section, UsbSeen, error, ok, unavailable
from collectors.system.evidence import NoEvidence
from collectors.system.files import ReadDenied, exists, read_text
from collectors.system.linux import hardware, software
from collectors.system.runner import Runner
from common.errors import HostwardError

WINDOWS = sys.platform == "win32"


def is_live(root: str) -> bool:
    if root in ("", "/"):
        return True
    return WINDOWS and len(root.rstrip("\\/")) == 2 and root[1] == ":"  # C:\


def _failed(name: str, exc: HostwardError) -> Section:
    if isinstance(exc, NoEvidence):
        return error(name, exc.en, exc.zh)
    return error(name, str(exc), f"读取失败：{exc}")


def _section(name: str, read: Callable[[], Section]) -> Section:
    try:
        return read()
    except HostwardError as exc:
        return _failed(name, exc)


def _nothing(name: str, live: bool, what_en: str, what_zh: str, needed: str, root: str) -> Section:
    """An empty reading: an error on a live host or where the source exists, else unavailable."""
    if live or exists(root, needed):
        return error(name, f"{what_en}: reading nothing is not evidence", f"{what_zh}：读不到不等于没有")
    return unavailable(name, f"{needed} is not in this offline root", f"离线目录中没有 {needed}")


def _usb(usb_seen: Sequence[dict[str, Any]] | None) -> Section:
    if usb_seen is None:
        return unavailable(
            "usb_storage",
            "no USB history here: it is kept in the agent's state of the live host",
            "没有 USB 记录：它保存在本机代理的状态库中",
        )
    items = [
        UsbSeen(
            str(d.get("vendor", "")),
            str(d.get("product", "")),
            str(d.get("serial", "")),
            float(d.get("first_seen") or 0),
            float(d.get("last_seen") or 0),
        )
        for d in usb_seen
        if isinstance(d, dict)
    ]
    return ok("usb_storage", sorted(items, key=lambda u: -u.last_seen))


def _system(root: str, live: bool) -> Section:
    try:
        found = hardware.read_dmi(root)
    except ReadDenied as exc:  # the serial is root-only: keep what was readable, say what was not
        partial = hardware.read_dmi(root, serial=False)
        items = (partial,) if partial else ()
        return error("system", f"serial number not readable: {exc}", f"无法读取出厂编号：{exc}", items)
    if found is None:
        return _nothing("system", live, "no SMBIOS/DMI table (/sys/class/dmi/id)",
                        "没有 SMBIOS/DMI 信息（/sys/class/dmi/id）", hardware.DMI, root)  # fmt: skip
    return ok("system", [found])


def _linux(root: str, runner: Runner, live: bool) -> dict[str, Section]:
    def cpu() -> Section:
        found = hardware.read_cpu(root)
        if found is None or not found.logical_cpus:
            return _nothing("cpu", live, "/proc/cpuinfo lists no CPU", "/proc/cpuinfo 没有列出处理器",
                            "/proc/cpuinfo", root)  # fmt: skip
        return ok("cpu", [found])

    def memory() -> Section:
        total = hardware.read_memory_total(root)
        if not total:
            return _nothing("memory", live, "/proc/meminfo gives no MemTotal", "/proc/meminfo 没有 MemTotal",
                            "/proc/meminfo", root)  # fmt: skip
        return ok("memory", [Memory(total)])

    def disks() -> Section:
        found = hardware.read_disks(root)
        if not found:
            return _nothing("disks", live, "no disk listed in /sys/block", "/sys/block 中没有任何磁盘",
                            "/sys/block", root)  # fmt: skip
        return ok("disks", found)

    def adapters() -> Section:
        found = hardware.read_adapters(root)
        if not found:
            return _nothing("adapters", live, "no network adapter but lo in /sys/class/net",
                            "/sys/class/net 中除 lo 外没有任何网卡", "/sys/class/net", root)  # fmt: skip
        return ok("adapters", found)

    def os_release() -> Section:
        found = hardware.read_os_release(root)
        if found is None:
            return error("os", "no /etc/os-release nor /usr/lib/os-release", "没有 /etc/os-release")
        return ok("os", [found])

    def installed() -> Section:
        found = software.read_software(runner, root)
        if found is None:
            return error("software", "no package database (dpkg or rpm): no software inventory",
                         "没有软件包数据库（dpkg 或 rpm）：无法获得软件清单")  # fmt: skip
        if not found:
            return error("software", "the package database lists no installed package",
                         "软件包数据库中没有任何已安装软件")  # fmt: skip
        return ok("software", found)

    readers: dict[str, Callable[[], Section]] = {
        "system": lambda: _system(root, live), "os": os_release, "cpu": cpu, "memory": memory,
        "disks": disks, "adapters": adapters, "software": installed,
    }  # fmt: skip
    return {name: _section(name, read) for name, read in readers.items()}


def _windows(runner: Runner) -> dict[str, Section]:  # pragma: no cover - run under Wine
    import psutil

    from collectors.system.windows import inventory as win
    from collectors.system.windows import registry
    from collectors.system.windows.network import read_network

    out: dict[str, Section] = {}
    try:
        reg = registry.local_reader()
    except HostwardError as exc:
        reg = None
        for name in ("os", "cpu", "software"):
            out[name] = _failed(name, exc)
    try:
        hw = win.read_system(runner)
    except HostwardError as exc:
        out["system"], out["disks"] = _failed("system", exc), _failed("disks", exc)
    else:
        out["system"] = (
            ok("system", [hw.identity]) if hw.identity
            else error("system", "Win32_ComputerSystem and Win32_BIOS gave nothing",
                       "Win32_ComputerSystem 与 Win32_BIOS 没有返回任何数据")
        )  # fmt: skip
        out["disks"] = (
            ok("disks", hw.disks) if hw.disks
            else error("disks", "Win32_DiskDrive listed no disk", "Win32_DiskDrive 没有列出任何磁盘")
        )  # fmt: skip

    def adapters() -> Section:
        interfaces = read_network(runner)[0]  # NoEvidence when Get-NetAdapter lists none
        return ok("adapters", [hardware.Adapter(i.name, i.mac, True, i.kind) for i in interfaces])

    out["adapters"] = _section("adapters", adapters)
    out["memory"] = ok("memory", [Memory(int(psutil.virtual_memory().total))])
    if reg is not None:
        out.update(_windows_registry(reg))
    return out


def _windows_registry(reg: Any) -> dict[str, Section]:  # pragma: no cover - run under Wine
    from collectors.system.windows import inventory as win

    def os_release() -> Section:
        found = win.read_os(reg)
        if found is None:
            return error("os", f"{win.CURRENT_VERSION} is missing", f"缺少 {win.CURRENT_VERSION}")
        return ok("os", [found])

    def cpu() -> Section:
        found = win.read_cpu(reg, os.cpu_count() or 0)
        return ok("cpu", [found]) if found else error("cpu", "no CPU description", "没有处理器信息")

    def programs() -> Section:
        found = win.read_programs(reg)
        if not found:
            return error("software", "the Uninstall registry keys list no installed program",
                         "注册表 Uninstall 项中没有任何已安装程序")  # fmt: skip
        return ok("software", found)

    readers = {"os": os_release, "cpu": cpu, "software": programs}
    return {name: _section(name, read) for name, read in readers.items()}


def hostname(root: str, live: bool, configured: str = "") -> str:
    if configured:
        return configured
    if live:
        return socket.gethostname()
    try:
        return (read_text(root, "/etc/hostname", limit=4096) or "").strip()
    except HostwardError:
        return ""


def gather(
    runner: Runner,
    root: str = "/",
    *,
    usb_seen: Sequence[dict[str, Any]] | None = None,
    host: str = "",
    now: Callable[[], float] = time.time,
) -> Inventory:
    """The register of the host under `root`. `usb_seen`: the USB storage history from the
    agent's state (None where there is none: an offline root, an unreadable state)."""
    live = is_live(root)
    windows = WINDOWS and live
    sections = _windows(runner) if windows else _linux(root, runner, live)
    sections["usb_storage"] = _usb(usb_seen if live else None)
    return Inventory(
        host=hostname(root, live, host),
        taken=now(),
        platform="windows" if windows else "linux",
        root=root,
        live=live,
        sections=sections,
    )
