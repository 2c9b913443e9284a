"""Linux probes for removable media and antivirus (USB-1..3, AV-1..3); patches are in patches.py."""

from __future__ import annotations

import re

from collectors.system.evidence import require
from collectors.system.files import read_text
from collectors.system.linux import clamav, kernel, packages, processes, sessions, usb
from policies.context import ProbeContext
from policies.probes.common import age_days, epoch_to_iso
from policies.result import Finding, Msg, errored, failed, joined, msg, passed

_PARTITION = re.compile(r"^(sd[a-z]+|sr\d+|mmcblk\d+|fd\d+)")
REMOVABLE_MOUNT_PREFIXES = ("/media/", "/run/media/", "/mnt/usb")


def installed(ctx: ProbeContext) -> dict[str, packages.Package] | None:
    """Installed packages; None without a dpkg database, NoEvidence when it lists none (a
    truncated or garbled status file): an empty inventory would hide every forbidden package."""
    pkgs = ctx.read("dpkg", lambda: packages.read_installed_packages(ctx.target.root))
    if pkgs is not None:
        require(
            pkgs,
            "/var/lib/dpkg/status",
            "the package database lists no installed package",
            "软件包数据库中没有任何已安装的软件包",
        )
    return pkgs


def running(ctx: ProbeContext) -> set[str] | None:
    """Process names, or None when auditing offline (or no /proc); NoEvidence when /proc
    lists no process at all (a live system always runs at least this one)."""
    if not ctx.target.live:
        return None
    procs = ctx.read("procs", lambda: processes.read_process_names(ctx.target.root))
    if procs is not None:
        require(procs, "/proc", "no running process could be read", "读不到任何正在运行的进程")
    return procs


def removable_mounts(ctx: ProbeContext) -> list[dict[str, str]]:
    root = ctx.target.root
    mounts = ctx.read("mounts", lambda: kernel.read_mounts(root)) or []
    removable = ctx.read("removable", lambda: kernel.removable_block_devices(root))
    out = []
    for m in mounts:
        dev = m.device.removeprefix("/dev/")
        match = _PARTITION.match(dev)
        if (match and match.group(1) in removable) or m.mountpoint.startswith(REMOVABLE_MOUNT_PREFIXES):
            out.append({"device": m.device, "mountpoint": m.mountpoint, "fstype": m.fstype})
    return out


def usb_storage_blocked(ctx: ProbeContext) -> Finding:
    root = ctx.target.root
    config = ctx.read("modprobe", lambda: kernel.read_modprobe(root))
    loaded = ctx.read("modules", lambda: kernel.read_loaded_modules(root)) if ctx.target.live else None
    guard = ctx.read("usbguard", lambda: usb.read_usbguard(root))
    problems: list[Msg] = []
    modules = {}
    for name in ctx.params.modules or ("usb_storage",):
        mod = kernel.norm_module(name)
        install = config.install.get(mod)
        is_loaded = None if loaded is None else mod in loaded
        modules[mod] = {
            "install": install[0] if install else None,
            "install_file": install[1] if install else None,
            "blacklisted_in": config.blacklist.get(mod),
            "loaded": is_loaded,
        }
        if not config.install_disabled(mod):
            problems.append(
                msg(
                    f"{mod} can be loaded (no 'install {mod} /bin/false')",
                    f"{mod} 可被加载（缺少 'install {mod} /bin/false'）",
                )
            )
        if mod not in config.blacklist:
            problems.append(msg(f"{mod} is not blacklisted", f"{mod} 未列入黑名单"))
        if is_loaded:
            problems.append(msg(f"{mod} is loaded now", f"{mod} 当前已加载"))
    mounted = removable_mounts(ctx) if ctx.target.live else []
    if mounted:
        points = ", ".join(m["mountpoint"] for m in mounted)
        problems.append(msg(f"removable media mounted: {points}", f"已挂载可移动介质：{points}"))
    if guard.allows_storage:
        problems.append(
            msg(
                f"USBGuard rules allow mass storage ({guard.rules_file})",
                f"USBGuard 规则允许大容量存储（{guard.rules_file}）",
            )
        )
    evidence = {
        "modules": modules,
        "removable_mounts": mounted,
        "usbguard": {
            "installed": guard.installed,
            "implicit_policy": guard.implicit_policy,
            "allows_storage": guard.allows_storage,
        },
        "role": ctx.target.role,
        "session_accounts": session_accounts(ctx),
    }
    if problems:
        return failed(joined(problems), **evidence)
    names = ", ".join(modules)
    return passed(msg(f"blocked: {names}", f"已屏蔽：{names}"), **evidence)


def session_accounts(ctx: ProbeContext) -> list[str] | None:
    """Accounts with a session now (for per-person USB exemptions); None offline or unknown."""
    if not ctx.target.live:
        return None
    found = ctx.read("sessions", lambda: sessions.read_sessions(ctx.target.root))
    return None if found is None else sorted({s.user for s in found})


def usb_media_scanned(ctx: ProbeContext) -> Finding:
    root = ctx.target.root
    devices = [d.__dict__ for d in ctx.read("usbdevs", lambda: usb.read_usb_storage_devices(root))]
    conf_text = None
    conf_path = ""
    for path in ("/etc/clamav/clamd.conf", "/etc/clamd.d/scan.conf"):
        conf_text = read_text(root, path)
        if conf_text is not None:
            conf_path = path
            break
    options = clamav.parse_clamd_conf(conf_text or "")
    paths = options.get("OnAccessIncludePath", []) + options.get("OnAccessMountPath", [])
    procs = running(ctx)
    scanner_running = None if procs is None else bool(procs & set(ctx.params.av_processes or ()))
    evidence = {
        "clamd_conf": conf_path or None,
        "on_access_paths": paths,
        "on_access_running": scanner_running,
        "usb_storage_devices": devices,
    }
    covers_media = any(p.startswith(("/media", "/run/media", "/mnt")) or p == "/" for p in paths)
    if not covers_media:
        return failed(
            msg("on-access scanning does not cover removable media mounts", "实时扫描未覆盖可移动介质挂载点"),
            **evidence,
        )
    if scanner_running is False:
        return failed(
            msg("on-access scanner (clamonacc) is not running", "实时扫描程序（clamonacc）未运行"), **evidence
        )
    covered = ", ".join(paths)
    return passed(msg(f"on-access scanning covers {covered}", f"实时扫描覆盖 {covered}"), **evidence)


def av_installed_running(ctx: ProbeContext) -> Finding:
    pkgs = installed(ctx)
    if pkgs is None:
        return errored(
            msg(
                "no package database (/var/lib/dpkg/status) to tell what is installed",
                "没有软件包数据库（/var/lib/dpkg/status），无法判断安装情况",
            )
        )
    have = sorted(p for p in (ctx.params.av_packages or ()) if p in pkgs)
    procs = running(ctx)
    up = None if procs is None else sorted(p for p in (ctx.params.av_processes or ()) if p in procs)
    evidence = {"installed": {p: pkgs[p].version for p in have}, "running": up}
    if not have:
        wanted = ", ".join(ctx.params.av_packages or ())
        return failed(
            msg(
                f"no antivirus package installed (looked for {wanted})",
                f"未安装杀毒软件包（查找了 {wanted}）",
            ),
            **evidence,
        )
    names = ", ".join(have)
    if up is not None and not up:
        return failed(msg(f"installed ({names}) but not running", f"已安装（{names}）但未运行"), **evidence)
    state = (
        msg("running " + ", ".join(up), "正在运行 " + ", ".join(up))
        if up
        else msg("offline audit: running state not judged", "离线审计：未判断运行状态")
    )
    return passed(msg(f"installed {names}; {state.en}", f"已安装 {names}；{state.zh}"), **evidence)


def av_signatures_current(ctx: ProbeContext) -> Finding:
    directory = ctx.params.database_dir or "/var/lib/clamav"
    limit = ctx.params.max_age_days or 3
    dbs = clamav.read_databases(ctx.target.root, directory)
    if not dbs:
        return failed(
            msg(
                f"no ClamAV database (main/daily .cvd/.cld) in {directory}",
                f"{directory} 中没有 ClamAV 病毒库（main/daily .cvd/.cld）",
            ),
            database_dir=directory,
        )
    newest = max(dbs, key=lambda h: h.build_epoch)
    age = round((ctx.now.timestamp() - newest.build_epoch) / 86400, 2)
    evidence = {
        "database_dir": directory,
        "databases": [
            {
                "file": h.path,
                "version": h.version,
                "signatures": h.signatures,
                "build_time": epoch_to_iso(h.build_epoch),
                "build_time_text": h.build_time_text,
            }
            for h in dbs
        ],
        "age_days": age,
        "max_age_days": limit,
    }
    if age > limit:
        return failed(
            msg(
                f"signatures are {age:g} days old (limit {limit})", f"病毒库已 {age:g} 天（上限 {limit} 天）"
            ),
            **evidence,
        )
    return passed(
        msg(
            f"signatures {age:g} days old ({newest.path} v{newest.version})",
            f"病毒库 {age:g} 天前更新（{newest.path} v{newest.version}）",
        ),
        **evidence,
    )


def av_scan_recent(ctx: ProbeContext) -> Finding:
    limit = ctx.params.max_age_days or 7
    logs = ctx.params.scan_logs or ()
    last, read = clamav.read_last_scan(ctx.target.root, logs)
    evidence = {"logs_read": read, "max_age_days": limit, "last_scan": last.isoformat() if last else None}
    if last is None:
        files = ", ".join(logs)
        return failed(
            msg(f"no record of a completed scan in {files}", f"{files} 中没有完成扫描的记录"), **evidence
        )
    age = age_days(ctx.now, last)
    evidence["age_days"] = age
    if age > limit:
        return failed(
            msg(f"last scan {age:g} days ago (limit {limit})", f"上次扫描在 {age:g} 天前（上限 {limit} 天）"),
            **evidence,
        )
    return passed(msg(f"last scan {age:g} days ago", f"上次扫描在 {age:g} 天前"), **evidence)
