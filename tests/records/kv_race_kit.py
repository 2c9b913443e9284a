"""Writer processes for test_kv_race.py, spawned (no fork), so they run as they would on Windows.

- `trap_writer`: what the daemon's trap receiver does (agent/traps/effects.py): round i takes the
  link sw-a/Gi0/1 down (i even) or up again (i odd), through `apply_trap_state`;
- `round_writer`: a devices round (the job in a worker, or `hostward devices poll`) polling one
  device, ups-b, whose port is closed (down at once, no network wait), through `poll_and_record`;
- `usb_writer`: one USB storage device seen a round (the audit, the usb_watch job, the listener),
  through `merge_usb_devices`.

Each round starts at a barrier shared by the writers. The outage arithmetic and the USB merge
are made 5 ms slower (`slow_down`): a reader of the old value then writes back while the other
writer is still between its read and its write, the window a transaction must close.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PAUSE = 0.005
LINK = "sw-a/Gi0/1"
T0 = 1_000_000.0


def slow_down() -> None:
    """Widen the race window: reading a key/value entry, the outage arithmetic and the USB merge
    (where the code has one) each take PAUSE longer."""
    from agent.records import key_updates
    from agent.state import State
    from collectors.devices import outages

    def slower(function: Callable[..., Any]) -> Callable[..., Any]:
        def slow(*args: Any, **kwargs: Any) -> Any:
            found = function(*args, **kwargs)
            time.sleep(PAUSE)
            return found

        return slow

    outages.update = slower(outages.update)
    State.get = slower(State.get)
    key_updates.merged_usb = slower(key_updates.merged_usb)  # type: ignore[method-assign]


def config(work: Path) -> Any:
    from agent.config.schema import Config
    from collectors.devices.config import DeviceConfig, SnmpConfig
    from common.schema import Duration

    community = work / "community"
    community.write_text("public")
    community.chmod(0o600)
    snmp = SnmpConfig(version="2c", community_file=str(community), timeout=Duration(1), retries=0)
    return Config(devices=(DeviceConfig("ups-b", "ups", "127.0.0.1:1", snmp=snmp),))


def trap_writer(state_dir: Path, rounds: int, start: Any, done: Any) -> None:
    from agent.actions.devices import apply_trap_state
    from agent.state import State

    slow_down()
    state = State.open(state_dir)
    for i in range(rounds):
        start.wait()
        down = i % 2 == 0
        apply_trap_state(state, "sw-a", T0 + i, observed={LINK: (not down, "link down (trap)")})
        done.wait()
    state.close()


def round_writer(state_dir: Path, rounds: int, start: Any, done: Any) -> None:
    from agent.actions.devices import poll_and_record
    from agent.state import State

    slow_down()
    state = State.open(state_dir)
    cfg = config(state_dir.parent)
    for i in range(rounds):
        start.wait()
        poll_and_record(cfg, state, now=T0 + i, boot_time=0.0)
        done.wait()
    state.close()


def usb_writer(name: str, state_dir: Path, rounds: int, start: Any, done: Any) -> None:
    from agent.records.key_updates import merge_usb_devices
    from agent.state import State

    slow_down()
    state = State.open(state_dir)
    for i in range(rounds):
        start.wait()
        merge_usb_devices(state, [{"vendor": name, "product": "stick", "serial": str(i)}], T0 + i)
        done.wait()
    state.close()
