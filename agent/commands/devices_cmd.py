"""`hostward devices poll|config-backup [--json] [-c FILE]`: machine-room gear.

`poll` polls every device once through the same action as the scheduled rounds
(agent.actions.devices.poll_and_record): the results go into the "devices" record (as round
"cli"; the scheduled rounds' times are kept), outages are opened and closed, events journaled,
next to a running daemon without losing its writes. One thing it leaves to the daemon: a UPS
that has just left mains power. The scheduled power round starts the backup then (BAK-6); this
command has no scheduler to start it from, so it says so and leaves the transition for that
round. Without write access to the state (a normal user) it polls and prints, and says that
nothing was stored. `config-backup` fetches the running configuration of every SSH device and
stores a new version when it changed. Exit 0 when every device answered, 1 when any failed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent import console
from agent.commands import common
from collectors.devices.records import DeviceResult


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("devices", help="network devices, UPS, room sensors / 机房设备")
    sub = p.add_subparsers(dest="devices_command", metavar="ACTION", required=True)
    poll = sub.add_parser("poll", help="poll every SNMP device once / 轮询一次所有SNMP设备")
    common.add_config_option(poll)
    poll.add_argument("--json", action="store_true", help="print JSON instead of a table")
    poll.set_defaults(func=run_poll)
    backup = sub.add_parser("config-backup", help="back up running configs over SSH / 通过SSH备份设备配置")
    common.add_config_option(backup)
    backup.add_argument("--json", action="store_true", help="print JSON instead of a table")
    backup.set_defaults(func=run_config_backup)


def run_poll(args: argparse.Namespace) -> int:
    from agent.actions.devices import CLI, poll_and_record

    loaded = common.load(args)
    state = common.open_state_or_say(loaded, "devices")
    try:
        round_ = poll_and_record(loaded.config, state, round_=CLI, state_dir=loaded.state_dir, battery=False)
    finally:
        if state is not None:
            state.close()
    if args.json:
        payload = {"devices": [_flat(r) for r in round_.results]}
        print(console.dumps(payload, indent=2))
    else:
        print(format_table(round_.results))
    for ups in round_.battery_left:
        print(f"UPS {ups} has left mains power: the backup (BAK-6) is started by the agent's next power "
              f"round, not by this command / UPS {ups} 已转电池供电：备份（BAK-6）由代理下一次电源轮询启动，"
              "而非本命令", file=sys.stderr)  # fmt: skip
    return common.EXIT_FAILED if round_.failed else common.EXIT_OK


def run_config_backup(args: argparse.Namespace) -> int:
    from agent.actions.device_configs import backup_configs

    loaded = common.load(args)
    state = common.open_state(loaded)
    try:
        outcomes = backup_configs(loaded.config, state, loaded.state_dir)
    finally:
        state.close()
    if args.json:
        print(console.dumps({"devices": [o.to_json() for o in outcomes]}, indent=2))
    else:
        for o in outcomes:
            status = "changed 已变更" if o.changed else ("ok 正常" if o.ok else "FAILED 失败")
            detail = o.reason or (f"version {o.version}" if o.version else "")
            print(f"{o.name:<24} {status:<14} {detail}")
            if o.changed and o.diff_file:
                with open(o.diff_file, encoding="utf-8") as fh:  # the change, for the work log
                    print(fh.read())
    return common.EXIT_OK if all(o.ok for o in outcomes) else common.EXIT_FAILED


def _flat(result: DeviceResult) -> dict[str, Any]:
    """`name`, `up`, `reason` first, then the values."""
    data = result.to_dict()
    head = {k: data.pop(k) for k in ("name", "up", "reason")}
    return head | data


def format_table(results: tuple[DeviceResult, ...]) -> str:
    if not results:
        return "no SNMP devices configured / 未配置SNMP设备"
    lines = [f"{'设备 Device':<24} {'状态 State':<10} {'详情 Detail'}"]
    for r in results:
        if not r.up:
            lines.append(f"{r.name:<24} {'DOWN 故障':<10} {r.reason}")
            continue
        parts = []
        if r.system and r.system.uptime_seconds is not None:
            parts.append(f"uptime {r.system.uptime_seconds / 86400:.1f} d")
        if r.interfaces:
            parts.append(f"{sum(i.up for i in r.interfaces)}/{len(r.interfaces)} ports up")
        if r.ups:
            parts.append("ON BATTERY 电池供电" if r.ups.on_battery else "on mains 市电")
            if r.ups.charge_ratio is not None:
                parts.append(f"charge {r.ups.charge_ratio:.0%}")
        for s in r.sensors:
            value = f"{s.value:.1f} °C" if s.kind == "temperature" else f"{s.value:.0%} RH"
            parts.append(f"{s.name} {value}")
        if r.warnings:
            parts.append(f"{len(r.warnings)} warnings")
        lines.append(f"{r.name:<24} {'up 正常':<10} {', '.join(parts)}")
    return "\n".join(lines)
