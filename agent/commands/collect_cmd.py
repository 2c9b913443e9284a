"""`hostward collect [--json] [-c FILE]`: one host-health snapshot, printed.

It goes through the same action as the `collect` job (agent.actions.collect.record_host): the
snapshot is printed and stored as the "host" record. Without write access to the state
directory (a normal user) it still reads and prints, and says on stderr that nothing was stored.
"""

from __future__ import annotations

import argparse
import time
import unicodedata

from agent import console
from agent.actions.collect import record_host
from agent.commands import common
from collectors.host import HostSnapshot


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("collect", help="one host-health snapshot / 采集一次主机健康状况")
    common.add_config_option(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    loaded = common.load(args)
    state = common.open_state_or_say(loaded, "collect")
    try:
        snap = record_host(loaded.config.collect, state)
    finally:
        if state is not None:
            state.close()
    if args.json:
        print(console.dumps(snap.to_payload(), indent=2))
    else:
        print(format_table(snap, chinese=console.chinese_ok()))
    return common.EXIT_OK


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop always returns


def format_table(snap: HostSnapshot, chinese: bool = True) -> str:
    """A short two-column table; labels in Chinese and English (English alone where the
    console's code page has no Chinese)."""
    rows: list[tuple[str, str]] = [("主机 Host", snap.hostname)]
    rows.append(("时间 Taken", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(snap.taken))))
    if snap.load:
        rows.append(
            ("负载 Load 1/5/15", f"{snap.load.load1:.2f} {snap.load.load5:.2f} {snap.load.load15:.2f}")
        )
    rows.append(("处理器 CPUs", str(snap.cpu_count)))
    if snap.memory:
        m = snap.memory
        rows.append(("内存 Memory", f"{human_bytes(m.total - m.available)} / {human_bytes(m.total)} used"))
    if snap.swap and snap.swap.total:
        rows.append(("交换 Swap", f"{human_bytes(snap.swap.used)} / {human_bytes(snap.swap.total)} used"))
    if snap.uptime is not None:
        rows.append(("运行 Uptime", f"{snap.uptime / 86400:.1f} d"))
    for fs in snap.filesystems:
        used = fs.size - fs.free
        pct = 100.0 * used / (used + fs.avail) if used + fs.avail else 0.0  # as df reports it
        rows.append((f"磁盘 FS {fs.mountpoint}", f"{pct:.0f}% of {human_bytes(fs.size)} ({fs.fstype})"))
    for n in snap.networks:
        rows.append(
            (f"网络 Net {n.interface}", f"rx {human_bytes(n.rx_bytes)}  tx {human_bytes(n.tx_bytes)}")
        )
    for t in snap.temperatures:
        rows.append((f"温度 Temp {t.sensor}/{t.label}", f"{t.celsius:.1f} °C"))
    if snap.processes is not None:
        rows.append(("进程 Processes", str(snap.processes)))
    rows.append(("登录 Users", str(len(snap.users))))
    for part, message in sorted(snap.errors.items()):
        rows.append((f"错误 Error {part}", message))
    for part, why in sorted(snap.unavailable.items()):
        rows.append((f"不可用 N/A {part}", why))
    if not chinese:
        rows = [(label.split(" ", 1)[1], value) for label, value in rows]
    width = max(_width(label) for label, _ in rows)
    return "\n".join(f"{label}{' ' * (width - _width(label))}  {value}" for label, value in rows)


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
