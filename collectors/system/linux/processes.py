"""Running processes (names from /proc/<pid>/comm) and listening TCP ports (/proc/net/tcp*)."""

from __future__ import annotations

import os

from collectors.system.files import ReadDenied, list_dir, read_text
from common.frozen import frozen


def read_process_names(root: str | os.PathLike[str] = "/") -> set[str] | None:
    """Names of running processes; None when there is no /proc (an offline image)."""
    if read_text(root, "/proc/self/stat") is None and not list_dir(root, "/proc"):
        return None
    names = set()
    for pid in list_dir(root, "/proc"):
        if pid.isdigit():
            try:
                comm = read_text(root, f"/proc/{pid}/comm")
            except ReadDenied:
                continue  # a process that ended or hides from us; its name is not needed
            if comm:
                names.add(comm.strip())
    return names


@frozen
class Listener:
    """A listening TCP socket: local address and port."""

    address: str
    port: int


def parse_proc_net_tcp(text: str, ipv6: bool) -> list[Listener]:
    out = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 4 or parts[3] != "0A":  # 0A = LISTEN
            continue
        addr_hex, port_hex = parts[1].split(":")
        if ipv6:
            address = "::" if set(addr_hex) == {"0"} else addr_hex
        else:
            raw = bytes.fromhex(addr_hex)[::-1]
            address = ".".join(str(b) for b in raw)
        out.append(Listener(address, int(port_hex, 16)))
    return out


def read_listeners(root: str | os.PathLike[str] = "/") -> list[Listener] | None:
    """TCP listening sockets of the host's network namespace; None without /proc."""
    v4 = read_text(root, "/proc/net/tcp")
    if v4 is None:
        return None
    v6 = read_text(root, "/proc/net/tcp6") or ""
    return parse_proc_net_tcp(v4, False) + parse_proc_net_tcp(v6, True)
