"""Linux probes for removable media, antivirus and patches (USB-1..3, AV-1..3, PATCH-1)."""

from __future__ import annotations

import re

from collectors.system.files import read_text
from collectors.system.linux import clamav, kernel, packages, processes, usb
from policies.context import ProbeContext
from policies.probes.common import age_days, epoch_to_iso
from policies.result import Finding, failed, passed

_PARTITION = re.compile(r"^(sd[a-z]+|sr\d+|mmcblk\d+|fd\d+)")
REMOVABLE_MOUNT_PREFIXES = ("/media/", "/run/media/", "/mnt/usb")


def installed(ctx: ProbeContext) -> dict[str, packages.Package] | None:
    return ctx.read("dpkg", lambda: packages.read_installed_packages(ctx.target.root))


def running(ctx: ProbeContext) -> set[str] | None:
    """Process names, or None when auditing offline (or no /proc)."""
    if not ctx.target.live:
        return None
    return ctx.read("procs", lambda: processes.read_process_names(ctx.target.root))


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
    problems: list[str] = []
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
            problems.append(f"{mod} can be loaded (no 'install {mod} /bin/false')")
        if mod not in config.blacklist:
            problems.append(f"{mod} is not blacklisted")
        if is_loaded:
            problems.append(f"{mod} is loaded now")
    mounted = removable_mounts(ctx) if ctx.target.live else []
    if mounted:
        problems.append(f"removable media mounted: {', '.join(m['mountpoint'] for m in mounted)}")
    if guard.allows_storage:
        problems.append(f"USBGuard rules allow mass storage ({guard.rules_file})")
    evidence = {
        "modules": modules,
        "removable_mounts": mounted,
        "usbguard": {
            "installed": guard.installed,
            "implicit_policy": guard.implicit_policy,
            "allows_storage": guard.allows_storage,
        },
        "role": ctx.target.role,
    }
    if problems:
        return failed("; ".join(problems), **evidence)
    return passed(f"blocked: {', '.join(modules)}", **evidence)


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
        return failed("on-access scanning does not cover removable media mounts", **evidence)
    if scanner_running is False:
        return failed("on-access scanner (clamonacc) is not running", **evidence)
    return passed(f"on-access scanning covers {', '.join(paths)}", **evidence)


def av_installed_running(ctx: ProbeContext) -> Finding:
    pkgs = installed(ctx)
    if pkgs is None:
        return Finding("error", "no package database (/var/lib/dpkg/status) to tell what is installed")
    have = sorted(p for p in (ctx.params.av_packages or ()) if p in pkgs)
    procs = running(ctx)
    up = None if procs is None else sorted(p for p in (ctx.params.av_processes or ()) if p in procs)
    evidence = {"installed": {p: pkgs[p].version for p in have}, "running": up}
    if not have:
        return failed(
            f"no antivirus package installed (looked for {', '.join(ctx.params.av_packages or ())})",
            **evidence,
        )
    if up is not None and not up:
        return failed(f"installed ({', '.join(have)}) but not running", **evidence)
    state = "running " + ", ".join(up) if up else "offline audit: running state not judged"
    return passed(f"installed {', '.join(have)}; {state}", **evidence)


def av_signatures_current(ctx: ProbeContext) -> Finding:
    directory = ctx.params.database_dir or "/var/lib/clamav"
    limit = ctx.params.max_age_days or 3
    dbs = clamav.read_databases(ctx.target.root, directory)
    if not dbs:
        return failed(f"no ClamAV database (main/daily .cvd/.cld) in {directory}", database_dir=directory)
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
        return failed(f"signatures are {age:g} days old (limit {limit})", **evidence)
    return passed(f"signatures {age:g} days old ({newest.path} v{newest.version})", **evidence)


def av_scan_recent(ctx: ProbeContext) -> Finding:
    limit = ctx.params.max_age_days or 7
    logs = ctx.params.scan_logs or ()
    last, read = clamav.read_last_scan(ctx.target.root, logs)
    evidence = {"logs_read": read, "max_age_days": limit, "last_scan": last.isoformat() if last else None}
    if last is None:
        return failed(f"no record of a completed scan in {', '.join(logs)}", **evidence)
    age = age_days(ctx.now, last)
    evidence["age_days"] = age
    if age > limit:
        return failed(f"last scan {age:g} days ago (limit {limit})", **evidence)
    return passed(f"last scan {age:g} days ago", **evidence)


def os_updated(ctx: ProbeContext) -> Finding:
    limit = ctx.params.max_age_days or 31
    history = packages.read_update_history(ctx.target.root)
    evidence = {
        "sources": list(history.sources),
        "max_age_days": limit,
        "last_upgrade": history.last_upgrade.isoformat() if history.last_upgrade else None,
    }
    if history.last_upgrade is None:
        return failed("no successful package upgrade recorded in apt/dpkg logs", **evidence)
    age = age_days(ctx.now, history.last_upgrade)
    evidence["age_days"] = age
    if age > limit:
        return failed(f"last OS update {age:g} days ago (limit {limit})", **evidence)
    return passed(f"last OS update {age:g} days ago", **evidence)
