"""Leaf conditions over packages, services, modules, sysctl, ports, processes and Windows
settings, each through the existing readers (collectors/system)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from collectors.system import files
from collectors.system.evidence import NoEvidence
from collectors.system.linux import kernel, processes, services, sysctl
from collectors.system.windows import readers as win
from collectors.system.windows import records, registry, secedit
from common.errors import CommandError
from policies.conditions import (
    KernelModuleCondition,
    PackageCondition,
    PortCondition,
    ProcessCondition,
    RegistryCondition,
    SecurityPolicyCondition,
    ServiceCondition,
    SysctlCondition,
)
from policies.context import ProbeContext
from policies.probes.common import matches
from policies.probes.generic import Leaf, Outcome, needs_live
from policies.probes.linux_media import installed, running
from policies.result import Msg, joined, msg

RPM_DBS = ("/var/lib/rpm", "/usr/lib/sysimage/rpm")


def _win(ctx: ProbeContext, name: str) -> Any:
    return ctx.read(f"win:{name}", lambda: win.read(ctx.runner, name))


def _verdict(problems: list[Msg], ok: Msg, ev: dict[str, Any]) -> Outcome:
    return Outcome(False, joined(problems), ev) if problems else Outcome(True, ok, ev)


def _rpm_installed(ctx: ProbeContext, name: str) -> list[str]:
    root = ctx.target.root
    if not any(files.is_dir(root, db) for db in RPM_DBS):
        raise NoEvidence("/var/lib/dpkg/status", "no dpkg or rpm database", "没有 dpkg 或 rpm 软件包数据库")
    argv = ("rpm", "--root", root, "-q", "--qf", "%{NAME}\\n", name)
    try:
        result = ctx.runner.run(argv, timeout=10.0, max_output=256 * 1024)
    except CommandError as exc:
        raise NoEvidence("rpm -q", f"could not run rpm: {exc}", f"无法运行 rpm：{exc}") from exc
    out = result.stdout.decode("utf-8", "replace")
    if result.returncode == 0 and not result.timed_out:
        return [line for line in out.splitlines() if line]
    if result.returncode == 1 and "is not installed" in out + result.stderr_tail():
        return []
    raise NoEvidence("rpm -q", f"failed: {result.stderr_tail() or result.returncode}", "rpm 查询失败")


def check_package(ctx: ProbeContext, c: PackageCondition) -> Outcome:
    if ctx.target.platform == "windows":
        programs = {
            **win.parse_programs(_win(ctx, "programs")),
            **win.parse_programs(_win(ctx, "user_programs")),
        }
        found = sorted(p for p in programs if matches(p, [c.name]))
    else:
        pkgs = installed(ctx)
        found = (
            sorted(p for p in pkgs if matches(p, [c.name]))
            if pkgs is not None
            else _rpm_installed(ctx, c.name)
        )
    ev = {"kind": "package", "name": c.name, "found": found}
    if bool(found) == c.installed:
        seen = (
            msg(f"installed: {', '.join(found)}", f"已安装：{', '.join(found)}")
            if found
            else msg(f"{c.name} is not installed", f"{c.name} 未安装")
        )
        return Outcome(True, seen, ev)
    if found:
        return Outcome(False, msg(f"installed: {', '.join(found)}", f"已安装：{', '.join(found)}"), ev)
    return Outcome(False, msg(f"{c.name} is not installed", f"{c.name} 未安装"), ev)


def check_service(ctx: ProbeContext, c: ServiceCondition) -> Outcome:
    if ctx.target.platform == "windows":
        found = [s for s in records.parse_services(_win(ctx, "services")) if s.name.lower() == c.name.lower()]
        active = bool(found) and found[0].running
        enabled = bool(found) and found[0].start_mode.lower().startswith("auto")
        state = {"exists": bool(found), "start_mode": found[0].start_mode if found else None}
    else:
        needs_live(ctx)
        unit = ctx.read(f"unit:{c.name}", lambda: services.read_unit(ctx.runner, c.name))
        active, enabled = unit.active, unit.enabled
        state = {
            "load_state": unit.load_state,
            "active_state": unit.active_state,
            "unit_file_state": unit.unit_file_state,
        }
    ev = {"kind": "service", "name": c.name, "active": active, "enabled": enabled, **state}
    problems = []
    if c.active is not None and active != c.active:
        problems.append(
            msg(f"{c.name} is running", f"{c.name} 正在运行")
            if active
            else msg(f"{c.name} is not running", f"{c.name} 未运行")
        )
    if c.enabled is not None and enabled != c.enabled:
        problems.append(
            msg(f"{c.name} starts at boot", f"{c.name} 开机启动")
            if enabled
            else msg(f"{c.name} does not start at boot", f"{c.name} 未设为开机启动")
        )
    return _verdict(problems, msg(f"{c.name} is as required", f"{c.name} 符合要求"), ev)


def check_module(ctx: ProbeContext, c: KernelModuleCondition) -> Outcome:
    root = ctx.target.root
    config = ctx.read("modprobe", lambda: kernel.read_modprobe(root))
    mod = kernel.norm_module(c.name)
    loadable = not config.install_disabled(mod)
    blacklisted = mod in config.blacklist
    ev: dict[str, Any] = {
        "kind": "kernel_module",
        "name": mod,
        "loadable": loadable,
        "blacklisted": blacklisted,
    }
    problems = []
    if c.loadable is not None and loadable != c.loadable:
        problems.append(
            msg(
                f"{mod} can be loaded (no 'install {mod} /bin/false')",
                f"{mod} 可被加载（缺少 'install {mod} /bin/false'）",
            )
            if loadable
            else msg(
                f"{mod} is blocked ({config.install[mod][1]})",
                f"{mod} 被禁止加载（{config.install[mod][1]}）",
            )
        )
    if c.blacklisted is not None and blacklisted != c.blacklisted:
        problems.append(
            msg(f"{mod} is blacklisted", f"{mod} 已列入黑名单")
            if blacklisted
            else msg(f"{mod} is not blacklisted", f"{mod} 未列入黑名单")
        )
    if c.loaded is not None:
        needs_live(ctx)
        loaded_set = ctx.read("modules", lambda: kernel.read_loaded_modules(root))
        if loaded_set is None:
            raise NoEvidence("/proc/modules", "absent on a running system", "运行中的系统上没有该文件")
        ev["loaded"] = mod in loaded_set
        if ev["loaded"] != c.loaded:
            problems.append(
                msg(f"{mod} is loaded now", f"{mod} 当前已加载")
                if ev["loaded"]
                else msg(f"{mod} is not loaded", f"{mod} 未加载")
            )
    return _verdict(problems, msg(f"{mod} is as required", f"{mod} 符合要求"), ev)


def check_sysctl(ctx: ProbeContext, c: SysctlCondition) -> Outcome:
    key, want = sysctl.norm_key(c.key), sysctl.norm_value(c.value)
    ev: dict[str, Any] = {"kind": "sysctl", "key": key, "required": want}
    problems = []
    if c.source in ("both", "running"):
        if c.source == "running":
            needs_live(ctx)
        if ctx.target.live:
            now = sysctl.read_running(ctx.target.root, key)
            ev["running"] = now
            if now != want:
                problems.append(msg(f"{key} is {now} now, not {want}", f"{key} 当前为 {now}，应为 {want}"))
    if c.source in ("both", "configured"):
        conf = ctx.read("sysctl.d", lambda: sysctl.read_configured(ctx.target.root)).get(key)
        ev["configured"] = None if conf is None else {"value": conf.value, "file": conf.file}
        if conf is None:
            problems.append(msg(f"{key} is not set in sysctl.d", f"{key} 未在 sysctl.d 中设置"))
        elif conf.value != want:
            problems.append(
                msg(
                    f"{key} = {conf.value} in {conf.file}, not {want}",
                    f"{conf.file} 中 {key} = {conf.value}，应为 {want}",
                )
            )
    return _verdict(problems, msg(f"{key} = {want}", f"{key} = {want}"), ev)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check_port(ctx: ProbeContext, c: PortCondition) -> Outcome:
    if ctx.target.platform == "windows":
        listeners = win.parse_listeners(_win(ctx, "listeners"))
    else:
        needs_live(ctx)
        found = ctx.read("listeners", lambda: processes.read_listeners(ctx.target.root))
        if found is None:
            raise NoEvidence("/proc/net/tcp", "absent on a running system", "运行中的系统上没有该文件")
        listeners = [(item.address, item.port) for item in found]
    on = sorted({a for a, p in listeners if p == c.port and (c.loopback or not _loopback(a))})
    ev = {"kind": "port", "port": c.port, "listening_on": on}
    seen = (
        msg(f"port {c.port} listens on {', '.join(on)}", f"端口 {c.port} 在 {', '.join(on)} 上监听")
        if on
        else msg(f"nothing listens on port {c.port}", f"没有程序监听端口 {c.port}")
    )
    return Outcome(bool(on) == c.listening, seen, ev)


def check_process(ctx: ProbeContext, c: ProcessCondition) -> Outcome:
    if ctx.target.platform == "windows":
        names = win.parse_processes(_win(ctx, "processes"))
    else:
        needs_live(ctx)
        procs = running(ctx)
        if procs is None:
            raise NoEvidence("/proc", "no process list on a running system", "运行中的系统上读不到进程列表")
        names = procs
    found = sorted(n for n in names if matches(n, [c.name]))
    ev = {"kind": "process", "name": c.name, "found": found}
    seen = (
        msg(f"running: {', '.join(found)}", f"正在运行：{', '.join(found)}")
        if found
        else msg(f"{c.name} is not running", f"{c.name} 未运行")
    )
    return Outcome(bool(found) == c.running, seen, ev)


def _reg_text(data: object) -> str:
    if isinstance(data, bytes):
        return data.hex()
    if isinstance(data, tuple):
        return "\n".join(str(d) for d in data)
    return str(data)


def check_registry(ctx: ProbeContext, c: RegistryCondition) -> Outcome:
    reg = ctx.inputs.registry or registry.local()
    value = reg.get(c.key, c.name)
    where = f"{c.key}\\{c.name}"
    text = None if value is None else _reg_text(value.data)
    ev = {"kind": "registry", "key": c.key, "name": c.name, "value": text}
    if value is None or text is None:
        return Outcome(not c.exists, msg(f"{where} is not set", f"{where} 未设置"), ev)
    seen = msg(f"{where} = {text}", f"{where} = {text}")
    if not c.exists:
        return Outcome(False, seen, ev)
    held = (c.equals is None or text == c.equals) and (
        c.matches is None or re.search(c.matches, text) is not None
    )
    return Outcome(held, seen if held else _required(seen, [("=", c.equals), ("~", c.matches)]), ev)


def check_security_policy(ctx: ProbeContext, c: SecurityPolicyCondition) -> Outcome:
    policy = ctx.read("secedit", lambda: secedit.read_security_policy(ctx.runner))
    value = secedit.lookup(policy, c.section, c.key)
    where = f"[{c.section}] {c.key}"
    ev = {"kind": "security_policy", "section": c.section, "key": c.key, "value": value}
    if value is None:
        return Outcome(False, msg(f"{where} is not defined", f"{where} 未定义"), ev)
    seen = msg(f"{where} = {value}", f"{where} = {value}")
    held = c.equals is None or value == c.equals
    if c.at_least is not None or c.at_most is not None:
        try:
            number = int(value)
        except ValueError as exc:
            raise NoEvidence(where, f"{value!r} is not a number", f"{value!r} 不是数字") from exc
        held = (
            held
            and (c.at_least is None or number >= c.at_least)
            and (c.at_most is None or number <= c.at_most)
        )
    wanted = [("=", c.equals), (">=", c.at_least), ("<=", c.at_most)]
    return Outcome(held, seen if held else _required(seen, wanted), ev)


def _required(seen: Msg, wanted: Sequence[tuple[str, object]]) -> Msg:
    """`seen` followed by what the condition requires."""
    need = ", ".join(f"{op} {v}" for op, v in wanted if v is not None)
    return msg(f"{seen.en}, required {need}", f"{seen.zh}，要求 {need}")


LEAVES: dict[str, Leaf] = {
    "package": check_package,
    "service": check_service,
    "kernel_module": check_module,
    "sysctl": check_sysctl,
    "port": check_port,
    "process": check_process,
    "registry": check_registry,
    "security_policy": check_security_policy,
}
