"""Host health from psutil, normalised into frozen dataclasses in base units.

`collect_host()` reads CPU, load, memory, swap, filesystems, disk and network I/O, boot time,
sensors, processes and logged-in users. Each part is read on its own: a part that fails
(a permission error, a missing /proc file) is recorded in `HostSnapshot.errors` under the
part's name and the rest of the snapshot is still returned, so one unreadable mount never
hides the others. A part the platform does not provide (no load average on a Windows host
without performance counters) is listed in `HostSnapshot.unavailable` instead (see
collectors/host_platform.py). Units: bytes, seconds, Celsius, revolutions per minute.

Example:
    >>> snap = collect_host()
    >>> snap.memory.total > 0
    True
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, field
from typing import Any, TypeVar

import psutil

from collectors import host_platform
from collectors.host_io import DiskIO, NetIO, read_disks, read_networks
from collectors.host_platform import Unavailable
from collectors.system.files import SystemReadError
from common.frozen import frozen

__all__ = ["DiskIO", "HostSnapshot", "NetIO", "collect_host"]
LINUX = sys.platform.startswith("linux")

PAYLOAD_VERSION = 1

# Kernel pseudo filesystems: never disks, always skipped whatever the config says.
PSEUDO_FS_TYPES = frozenset(
    {
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
        "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nsfs", "proc", "procfs", "pstore",
        "rpc_pipefs", "securityfs", "selinuxfs", "sysfs", "tracefs", "ramfs", "none",
        "fuse.gvfsd-fuse", "fuse.portal", "fuse.lxcfs", "devfs",
    }
)  # fmt: skip
_CPU_MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
# Windows' per-CPU modes beyond user/system/idle (psutil); guest modes (Linux) are kept apart.
_CPU_MODES_PER_CPU = (*_CPU_MODES, "interrupt", "dpc", "guest", "guest_nice")


@frozen
class Load:
    """Load averages over 1, 5 and 15 minutes."""

    load1: float
    load5: float
    load15: float


@frozen
class Memory:
    """Physical memory in bytes (psutil's virtual_memory)."""

    total: int
    available: int
    used: int
    free: int
    buffers: int | None = None  # Linux and BSD only
    cached: int | None = None


@frozen
class Swap:
    """Swap space in bytes."""

    total: int
    used: int
    free: int
    sin: int  # bytes swapped in since boot
    sout: int


@frozen
class Filesystem:
    """One mounted filesystem: its size and free space in bytes, and its inodes."""

    device: str
    mountpoint: str
    fstype: str
    size: int
    free: int  # including blocks reserved for root
    avail: int  # what an unprivileged user can still write
    files: int  # inodes; 0 where the filesystem has none
    files_free: int


@frozen
class Temperature:
    """One temperature sensor in Celsius, with its high and critical marks where it has them."""

    sensor: str
    label: str
    celsius: float
    high: float | None = None
    critical: float | None = None


@frozen
class Fan:
    """One fan's speed in revolutions per minute."""

    sensor: str
    label: str
    rpm: float


@frozen
class HostSnapshot:
    """One reading of the host. Parts that could not be read are None/empty, with a reason in
    `errors` (part name -> message)."""

    taken: float  # epoch seconds
    hostname: str
    cpu_seconds: Mapping[str, float]  # mode -> seconds, whole machine
    cpu_count: int
    load: Load | None
    memory: Memory | None
    swap: Swap | None
    filesystems: tuple[Filesystem, ...]
    disks: tuple[DiskIO, ...]
    networks: tuple[NetIO, ...]
    boot_time: float | None
    temperatures: tuple[Temperature, ...]
    fans: tuple[Fan, ...]
    processes: int | None
    users: tuple[str, ...]  # names of logged-in users (one per session)
    errors: Mapping[str, str] = field(default_factory=dict)
    # Busy share of all CPUs since the previous reading in this process (psutil keeps it).
    cpu_percent: float | None = None
    # Parts this platform/host does not provide (part name -> why): not errors, not evidence.
    unavailable: Mapping[str, str] = field(default_factory=dict)
    # Per CPU (index = CPU number): mode -> seconds, guest modes included (Linux).
    cpus: tuple[Mapping[str, float], ...] = ()
    # Context switches, interrupts, soft interrupts (psutil); forks, procs_running and
    # procs_blocked (Linux /proc/stat).
    cpu_stats: Mapping[str, int] = field(default_factory=dict)
    meminfo: Mapping[str, int] = field(default_factory=dict)  # Linux /proc/meminfo, bytes
    vmstat: Mapping[str, int] = field(default_factory=dict)  # Linux /proc/vmstat, chosen fields
    # Every part tried (name -> seconds it took): success is "not in `errors`".
    durations: Mapping[str, float] = field(default_factory=dict)

    @property
    def uptime(self) -> float | None:
        return None if self.boot_time is None else max(0.0, self.taken - self.boot_time)

    def to_payload(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for the state database and `hostward collect --json`)."""
        payload = asdict(self)
        payload["version"] = PAYLOAD_VERSION
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> HostSnapshot:
        """The inverse of `to_payload`. Raises KeyError/TypeError on a malformed payload."""
        p = payload

        def opt(kind: Callable[..., _T], value: Mapping[str, Any] | None) -> _T | None:
            return None if value is None else kind(**value)

        return cls(
            taken=float(p["taken"]),
            hostname=str(p.get("hostname", "")),
            cpu_seconds={str(k): float(v) for k, v in p["cpu_seconds"].items()},
            cpu_count=int(p["cpu_count"]),
            load=opt(Load, p["load"]),
            memory=opt(Memory, p["memory"]),
            swap=opt(Swap, p["swap"]),
            filesystems=tuple(Filesystem(**f) for f in p["filesystems"]),
            disks=tuple(DiskIO(**d) for d in p["disks"]),
            networks=tuple(NetIO(**n) for n in p["networks"]),
            boot_time=p["boot_time"],
            temperatures=tuple(Temperature(**t) for t in p["temperatures"]),
            fans=tuple(Fan(**f) for f in p["fans"]),
            processes=p["processes"],
            users=tuple(p["users"]),
            errors=dict(p.get("errors", {})),
            cpu_percent=p.get("cpu_percent"),
            unavailable=dict(p.get("unavailable", {})),
            cpus=tuple({str(k): float(v) for k, v in c.items()} for c in p.get("cpus", ())),
            cpu_stats={str(k): int(v) for k, v in p.get("cpu_stats", {}).items()},
            meminfo={str(k): int(v) for k, v in p.get("meminfo", {}).items()},
            vmstat={str(k): int(v) for k, v in p.get("vmstat", {}).items()},
            durations={str(k): float(v) for k, v in p.get("durations", {}).items()},
        )


_T = TypeVar("_T")


def collect_host(
    temperatures: bool = True,
    fs_types_exclude: Iterable[str] = (),
    mountpoints_exclude: Iterable[str] = (),
) -> HostSnapshot:
    """Read the host now. Never raises for one unreadable part; see `HostSnapshot.errors`."""
    errors: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    durations: dict[str, float] = {}

    def part(name: str, read: Callable[[], _T], empty: _T) -> _T:
        started = time.perf_counter()
        try:
            return read()
        except Unavailable as exc:
            unavailable[name] = str(exc)
            return empty
        except (OSError, psutil.Error, RuntimeError, ValueError, AttributeError, SystemReadError) as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
            return empty
        finally:
            durations[name] = time.perf_counter() - started

    no_cpu: dict[str, float] = {}
    cpu = part("cpu", _cpu_seconds, no_cpu)
    if host_platform.WINDOWS:
        unavailable["inodes"] = "Windows filesystems have no inode counts"
    no_fs: tuple[Filesystem, ...] = ()
    filesystems = part(
        "filesystems",
        lambda: _filesystems(frozenset(fs_types_exclude), tuple(mountpoints_exclude), errors),
        no_fs,
    )
    sensors: tuple[tuple[Temperature, ...], tuple[Fan, ...]] = ((), ())
    if temperatures:
        sensors = (part("temperatures", _temperatures, ()), part("fans", _fans, ()))
    return HostSnapshot(
        taken=time.time(),
        hostname=part("hostname", _hostname, ""),
        cpu_seconds=cpu,
        cpu_count=part("cpu_count", lambda: psutil.cpu_count() or 0, 0),
        load=part("load", lambda: Load(*host_platform.load_average()), None),
        memory=part("memory", _memory, None),
        swap=part("swap", _swap, None),
        filesystems=filesystems,
        disks=part("disks", read_disks, ()),
        networks=part("networks", read_networks, ()),
        boot_time=part("boot_time", psutil.boot_time, None),
        temperatures=sensors[0],
        fans=sensors[1],
        processes=part("processes", lambda: len(psutil.pids()), None),
        users=part("users", lambda: tuple(u.name for u in psutil.users()), ()),
        errors=errors,
        cpu_percent=part("cpu_percent", lambda: float(psutil.cpu_percent(interval=None)), None),
        unavailable=unavailable,
        cpus=part("cpus", _per_cpu, ()),
        cpu_stats=part("stat", _cpu_stats, {}),
        meminfo=part("meminfo", _linux_meminfo, {}) if LINUX else {},
        vmstat=part("vmstat", _linux_vmstat, {}) if LINUX else {},
        durations=durations,
    )


def _hostname() -> str:
    import socket  # tiny; kept local so the module's import list says what it really needs

    return socket.gethostname()


def _cpu_seconds() -> dict[str, float]:
    times = psutil.cpu_times()
    # guest time is already counted in user (Linux): leave it out so the modes add up.
    return {mode: float(getattr(times, mode)) for mode in _CPU_MODES if hasattr(times, mode)}


def _per_cpu() -> tuple[dict[str, float], ...]:
    times: list[Any] = psutil.cpu_times(percpu=True)
    return tuple(
        {mode: float(getattr(t, mode)) for mode in _CPU_MODES_PER_CPU if hasattr(t, mode)} for t in times
    )


def _cpu_stats() -> dict[str, int]:
    s = psutil.cpu_stats()
    stats = {"ctx_switches": s.ctx_switches, "interrupts": s.interrupts, "soft_interrupts": s.soft_interrupts}
    if LINUX:
        from collectors.system.linux.procstats import read_stat

        stats.update(read_stat() or {})
    return stats


def _linux_meminfo() -> dict[str, int]:
    from collectors.system.linux.procstats import read_meminfo

    return read_meminfo() or {}


def _linux_vmstat() -> dict[str, int]:
    from collectors.system.linux.procstats import read_vmstat

    return read_vmstat() or {}


def _memory() -> Memory:
    vm = psutil.virtual_memory()
    return Memory(
        total=vm.total,
        available=vm.available,
        used=vm.used,
        free=vm.free,
        buffers=getattr(vm, "buffers", None),
        cached=getattr(vm, "cached", None),
    )


def _swap() -> Swap:
    sw = host_platform.swap_memory()
    return Swap(total=sw.total, used=sw.used, free=sw.free, sin=sw.sin, sout=sw.sout)


def _excluded_mount(mountpoint: str, excludes: tuple[str, ...]) -> bool:
    for prefix in excludes:
        prefix = prefix.rstrip("/") or "/"
        if mountpoint == prefix or mountpoint.startswith(prefix + "/") or prefix == "/":
            return True
    return False


def _filesystems(
    types_exclude: frozenset[str], mounts_exclude: tuple[str, ...], errors: dict[str, str]
) -> tuple[Filesystem, ...]:
    """Mounted filesystems, pseudo ones and excludes skipped, bind mounts reported once
    (the shortest mount point of a device wins)."""
    seen: dict[str, Filesystem] = {}
    result: list[Filesystem] = []
    partitions = sorted(psutil.disk_partitions(all=True), key=lambda p: (len(p.mountpoint), p.mountpoint))
    for p in partitions:
        if p.fstype in PSEUDO_FS_TYPES or p.fstype in types_exclude or not p.fstype:
            continue
        if _excluded_mount(p.mountpoint, mounts_exclude) or host_platform.skip_partition(p.opts):
            continue
        # A device path ("/dev/vda", "server:/export") mounted twice is a bind mount.
        dedupe = "/" in p.device
        if dedupe and p.device in seen:
            continue
        try:
            u = host_platform.disk_usage(p.mountpoint)
        except OSError as exc:
            errors[f"filesystem:{p.mountpoint}"] = f"{type(exc).__name__}: {exc}"
            continue
        if u.size == 0:  # nothing to measure (autofs trigger, empty pseudo mount)
            continue
        fs = Filesystem(p.device, p.mountpoint, p.fstype, u.size, u.free, u.avail, u.files, u.files_free)
        if dedupe:
            seen[p.device] = fs
        result.append(fs)
    return tuple(sorted(result, key=lambda f: f.mountpoint))


def _temperatures() -> tuple[Temperature, ...]:
    read = getattr(psutil, "sensors_temperatures", None)
    if read is None:  # not on this platform: absent, not an error
        return ()
    result = []
    for sensor, entries in sorted(read().items()):
        for i, t in enumerate(entries):
            result.append(Temperature(sensor, t.label or str(i), float(t.current), t.high, t.critical))
    return tuple(result)


def _fans() -> tuple[Fan, ...]:
    read = getattr(psutil, "sensors_fans", None)
    if read is None:
        return ()
    return tuple(
        Fan(sensor, f.label or str(i), float(f.current))
        for sensor, entries in sorted(read().items())
        for i, f in enumerate(entries)
    )
