"""Which devices go in which polling round, and how many a round polls at once. Pure logic.

Two rounds, two scheduled jobs, each watched by the watchdog on its own:
- the *power* round (`devices_power`): UPSes and room sensors. It is small and it carries BAK-6
  (a UPS on battery starts a backup), so a slow or set-aside network round never stops it;
- the *network* round (`devices`): everything else (switches, routers, printers, BMCs).
With `devices_schedule.power` disabled, the network round polls every device.

A device that never answers costs its whole budget (`snmp.timeout`, retries included). With
`c` devices in flight, a round of budgets `b1..bn` ends within `sum(b) / c + max(b)` (a device
starts whenever a slot frees). `plan_round` picks the smallest `c` (at least 64) that keeps this
under `MARGIN` of the job's timeout, up to `MAX_CONCURRENCY` sockets at once; past that the
config is refused with the job timeout that would fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

from collectors.devices.config import DeviceConfig, DevicesSchedule
from common.frozen import frozen

POWER_KINDS = frozenset({"ups", "sensor"})
DEFAULT_CONCURRENCY = 64  # enough for 200 answering devices in one 10 s round
MAX_CONCURRENCY = 512  # UDP sockets open at once (one per device in flight)
MARGIN = 0.7  # share of the job timeout a round of silent devices may use


@frozen
class RoundPlan:
    """How a round runs: `devices` SNMP devices, `concurrency` at once, `worst_seconds` when
    none answers; `problem` says why it cannot fit its job timeout ("" when it fits)."""

    devices: int
    concurrency: int
    worst_seconds: float
    problem: str = ""


Round = list[DeviceConfig]


def split(devices: Iterable[DeviceConfig], power_separate: bool) -> tuple[Round, Round]:
    """(network round, power round) of the devices with `snmp:` (or `nut:`, UPSes read from
    upsd); all in the first when the power round is not separate."""
    polled = [d for d in devices if d.snmp is not None or d.nut is not None]
    if not power_separate:
        return polled, []
    return [d for d in polled if d.kind not in POWER_KINDS], [d for d in polled if d.kind in POWER_KINDS]


def plan_round(devices: Sequence[DeviceConfig], job_timeout: float) -> RoundPlan:
    """The concurrency that fits a round of silent `devices` in `MARGIN` of `job_timeout`."""
    budgets = [float(d.snmp.timeout) for d in devices if d.snmp is not None]
    if not budgets:
        return RoundPlan(0, DEFAULT_CONCURRENCY, 0.0)
    total, longest, n = sum(budgets), max(budgets), len(budgets)
    room = job_timeout * MARGIN - longest
    if room <= 0:
        need = math.ceil(longest / MARGIN) + 1
        problem = (
            f"a device budget of {longest:g}s (snmp.timeout) does not fit in {MARGIN:.0%} of the job "
            f"timeout of {job_timeout:g}s; set the timeout to at least {need}s or lower snmp.timeout"
        )
        return RoundPlan(n, min(n, MAX_CONCURRENCY), total / min(n, MAX_CONCURRENCY) + longest, problem)
    wanted = math.ceil(total / room)
    concurrency = min(n, MAX_CONCURRENCY, max(DEFAULT_CONCURRENCY, wanted))
    worst = total / concurrency + longest
    problem = ""
    if wanted > MAX_CONCURRENCY:
        need = math.ceil((total / MAX_CONCURRENCY + longest) / MARGIN)
        problem = (
            f"{n} devices that do not answer would take up to {worst:.0f}s "
            f"({MAX_CONCURRENCY} at once, snmp.timeout each), more than {MARGIN:.0%} of the job "
            f"timeout of {job_timeout:g}s; set the timeout to at least {need}s or lower snmp.timeout"
        )
    return RoundPlan(n, concurrency, worst, problem)


def rounds(devices: Iterable[DeviceConfig], schedule: DevicesSchedule) -> dict[str, list[DeviceConfig]]:
    """{schedule key: its devices}: "poll" (the `devices` job) and "power" (`devices_power`)."""
    network, power = split(devices, schedule.power.enabled)
    return {"poll": network, "power": power}


def round_problems(devices: Iterable[DeviceConfig], schedule: DevicesSchedule) -> Iterator[tuple[str, str]]:
    """Config check: each scheduled round of silent devices fits its job timeout."""
    for key, members in rounds(devices, schedule).items():
        job = getattr(schedule, key)
        if not members or not job.enabled:
            continue
        plan = plan_round(members, float(job.timeout))
        if plan.problem:
            yield f"devices_schedule.{key}.timeout", plan.problem
