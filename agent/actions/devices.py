"""The devices job: poll machine-room gear, keep the outage book, store record kind "devices".

The same code runs from the scheduler and the CLI (`hostward devices poll`, every device, stored
as a round of its own). The outage book, this host's heartbeat and the UPSes' on-battery flags
live in the "devices" record, and every write of it (a round here, a trap in the daemon's
receiver, agent/traps) is one update applied inside the state's transaction
(agent/records/devices_updates.py): a round in a worker or a CLI next to the daemon's receiver
loses no outage of the other.
Two scheduled rounds (`collectors.devices.rounds`): `devices_power_job` polls UPSes and room
sensors, `devices_job` the rest, each a job of its own with its own timeout and watchdog; both
merge into the one "devices" record (`rounds` says when each last ran) and the outage book.
It also keeps the agent's own host in the outage book (a heartbeat gap is an outage), so it
runs even where no device is configured; pysnmp is then never imported.

BAK-6: a UPS that goes from mains to battery calls the `on_battery` hook once per transition
(the scheduled rounds: "back up now"). A failing hook is logged and never fails the job. A
round that cannot start a backup (`hostward devices poll`: no scheduler) leaves the transition
to the next scheduled round (`battery=False`) and says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent import device_events
from agent.actions.base import JobAction, JobContext, JobOutcome
from agent.config.schema import Config
from agent.job_schedules import power_schedule
from agent.records.devices import DevicesRecord
from agent.records.devices_updates import DevicesPatch, DevicesRoundUpdate, Legacy
from agent.state import State
from collectors.devices import outages
from collectors.devices.config import DeviceConfig
from collectors.devices.records import DeviceResult
from collectors.devices.rounds import plan_round, rounds
from common.frozen import frozen
from common.schema.common import Schedule

log = logging.getLogger(__name__)

RECORD_KIND = DevicesRecord.KIND
# Key/value entries of older versions (the book was also in the record): read, never written
_HEARTBEAT_KEY = "devices.host_last_seen"
_ON_BATTERY_KEY = "devices.ups_on_battery"
MIN_HOST_GAP = 300.0
ALL, NETWORK, POWER = "all", "devices", "devices_power"  # rounds; the last two are job names
CLI = "cli"  # `hostward devices poll`: every device, the scheduled rounds' times kept

OnBatteryHook = Callable[[DeviceResult], object]  # returns what it did, for the event


@frozen
class PollRound:
    """One polling round: the devices' results, the outage book after it, the outages it opened or
    closed, and the UPSes it saw leave mains power."""

    results: tuple[DeviceResult, ...]
    book: dict[str, Any]
    changes: outages.Changes
    went_on_battery: tuple[str, ...]
    # UPSes that left mains power, seen by a poll that left BAK-6 to a scheduled round (battery=False)
    battery_left: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[DeviceResult, ...]:
        return tuple(r for r in self.results if not r.up)


def poll_and_record(
    config: Config,
    state: State | None,
    *,
    now: float | None = None,
    on_battery: OnBatteryHook | None = None,
    boot_time: float | None = None,
    concurrency: int | None = None,
    v2c_engine: str = "native",
    round_: str = ALL,
    job_timeout: float | None = None,
    state_dir: Path | None = None,
    battery: bool = True,
) -> PollRound:
    """Poll one round of SNMP devices (`ALL`, `NETWORK` or `POWER`), update the outages (devices
    and this host) and merge the round into the stored record (the other round's devices keep
    their last results). Unless `concurrency` is given, it is sized so that the round fits
    `job_timeout` (the time the job has left; default: its configured timeout) even if no
    device answers. Transitions (down, back, on battery, on mains) become device events
    (journaled when `state_dir` is given). `battery` False: a UPS's move to battery is not
    taken over (no hook, no event, its flag unchanged; `battery_left` names it): the next
    scheduled round acts on it."""
    members, configured = _members(config, round_)
    results: tuple[DeviceResult, ...] = ()
    snmp = [d for d in members if d.snmp is not None]
    if snmp:  # imported only then: asyncio and ssl cost ~3 MiB resident
        from collectors.devices.poll import poll_devices

        wanted = concurrency or plan_round(snmp, job_timeout or configured).concurrency
        results = tuple(poll_devices(snmp, wanted, v2c_engine))
    if any(d.nut is not None for d in members):
        from collectors.devices.nut import poll_nut

        results += tuple(poll_nut(d) for d in members if d.nut is not None)
    now = time.time() if now is None else now
    book, changes, (went, back) = _record(config, state, results, now, boot_time, round_, battery)
    left = () if battery else went
    if not battery:
        went = ()
    for outage in changes.started:
        log.warning("device %s down: %s", outage.target, outage.reason)
    for outage in changes.ended:
        log.info("device %s back after %.0fs", outage.target, outage.seconds(now))
    said: dict[str, str] = {}
    for result in results:
        if result.name in went:
            said[result.name] = "no backup hook"
            if on_battery is not None:
                try:
                    said[result.name] = str(on_battery(result) or "backup requested")
                except Exception:  # a side channel never fails the poll
                    log.exception("on-battery hook failed for UPS %s", result.name)
                    said[result.name] = "backup could not be started"
    happened = device_events.poll_events(now, changes, said, back)
    if happened and state is not None:
        device_events.add(state, state_dir, happened)
    return PollRound(results, book, changes, went, left)


def apply_trap_state(
    state: State,
    device: str,
    now: float,
    *,
    observed: dict[str, tuple[bool, str]] | None = None,
    patch: Callable[[dict[str, Any]], None] | None = None,
    on_battery: bool | None = None,
    blank: DeviceResult | None = None,
) -> tuple[outages.Changes, bool]:
    """A trap's news, at once (`agent.traps`): outages of the `observed` targets opened or
    closed, `patch` applied to the device's entry in the "devices" record, the on-battery state
    noted (`blank`: the entry to patch when the device was never polled). Returns the outage
    changes and whether the UPS has just left mains power (BAK-6). One transaction: a devices
    round in another process loses nothing of it, nor it of the round."""
    quiet = patch is None and on_battery is None and all(up for up, _ in (observed or {}).values())
    if quiet and state.record(DevicesRecord) is None:  # nothing to close, nor to patch: no record
        return outages.Changes((), ()), False
    update = DevicesPatch(device, now, dict(observed or {}), patch, on_battery, blank, _legacy(state))
    before, _ = state.update_record(update, taken=now)
    _, changes, went = update.outcome(before)
    return changes, went


def _members(config: Config, round_: str) -> tuple[list[DeviceConfig], float]:
    """The devices of one round, and the timeout of the job that runs it."""
    schedule = config.devices_schedule
    if round_ in (ALL, CLI):
        return [d for d in config.devices if d.snmp is not None or d.nut is not None], float(
            schedule.poll.timeout
        )
    members = rounds(config.devices, schedule)["power" if round_ == POWER else "poll"]
    return members, float((schedule.power if round_ == POWER else schedule.poll).timeout)


def _record(
    config: Config,
    state: State | None,
    results: tuple[DeviceResult, ...],
    now: float,
    boot_time: float | None,
    round_: str,
    battery: bool,
) -> tuple[dict[str, Any], outages.Changes, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Store the round (one transaction); the book, the outage changes, (went, back)."""
    order = tuple(d.name for d in config.devices if d.snmp is not None or d.nut is not None)
    legacy = _legacy(state) if state is not None else Legacy()
    update = DevicesRoundUpdate(results, order, round_, now, round_ == ALL, _max_gap(config),
                                _boot_time(boot_time), battery, legacy)  # fmt: skip
    if state is None:  # nothing stored: as a first round would see it
        outcome = update.outcome(None)
    else:
        before, _ = state.update_record(update, taken=now)
        outcome = update.outcome(before)
    if outcome.host_outage is not None:
        o = outcome.host_outage
        log.warning("this host was unseen for %.0fs: %s", o.seconds(now), o.reason)
    return dict(outcome.record.outages.book), outcome.changes, (outcome.went, outcome.back)


def devices_job_with(
    on_battery: Callable[[JobContext, DeviceResult], object] | None = None, round_: str = NETWORK
) -> JobAction:
    """A scheduled round; `on_battery(ctx, ups_result)` runs when a UPS leaves mains power.
    `NETWORK` polls every device when the power round is disabled."""

    def devices_job(ctx: JobContext) -> JobOutcome:
        hook: OnBatteryHook | None = None
        if on_battery is not None:

            def hook(result: DeviceResult) -> object:
                return on_battery(ctx, result)

        which = round_ if round_ != NETWORK or ctx.config.devices_schedule.power.enabled else ALL
        outcome = poll_and_record(
            ctx.config,
            ctx.state,
            on_battery=hook,
            round_=which,
            job_timeout=ctx.remaining(),
            state_dir=ctx.state_dir,
        )
        failed = outcome.failed
        if not failed:
            return JobOutcome(True)
        error = "; ".join(f"{r.name}: {r.reason}" for r in failed)
        return JobOutcome(
            False,
            f"{len(failed)} of {len(outcome.results)} devices down: {error}",
            partial=len(failed) < len(outcome.results),
        )

    return devices_job


def backup_now(ctx: JobContext, ups: DeviceResult) -> str:
    """BAK-6: a UPS left mains power, so take a backup while there is battery left. Returns
    what happened, in the words of the event ("backup started")."""
    if ctx.request_run is None:
        log.warning("UPS %s is on battery; no scheduler to start a backup from", ups.name)
        return "no scheduler to start a backup from"
    answer = ctx.request_run("backup")
    if answer == "started":
        log.warning("UPS %s is on battery: backup started now (BAK-6)", ups.name)
        return "backup started"
    if answer == "busy":
        log.warning("UPS %s is on battery: a backup is already running (BAK-6)", ups.name)
        return "a backup is already running"
    log.warning("UPS %s is on battery, but no backup is configured on this host (BAK-6)", ups.name)
    return "no backup is configured on this host"


devices_job: JobAction = devices_job_with(on_battery=backup_now)
devices_power_job: JobAction = devices_job_with(on_battery=backup_now, round_=POWER)


def _legacy(state: State) -> Legacy:
    """The heartbeat and flags as an older version left them (only read while the record has
    none); a value of the wrong type is ignored, as if there were none."""
    seen, flags = state.get(_HEARTBEAT_KEY), state.get(_ON_BATTERY_KEY)
    number = isinstance(seen, int | float) and not isinstance(seen, bool)
    table = isinstance(flags, dict) and all(isinstance(v, bool) for v in flags.values())
    return Legacy(float(seen) if number else None, {str(k): v for k, v in flags.items()} if table else None)


def _max_gap(config: Config) -> float:
    """How long this host may go unseen before the gap counts as an outage: three heartbeats of
    the network round (`devices_schedule.poll`), or of the power round when it runs alone."""
    schedule = config.devices_schedule
    beat: Schedule | None = schedule.poll if schedule.poll.enabled else None
    if beat is None:
        power = power_schedule(config)
        beat = power if power is not None and power.enabled else None
    if beat is None:  # no round on schedule: only `hostward devices poll` keeps the heartbeat
        return MIN_HOST_GAP
    interval = float(beat.every) if beat.every is not None else 86400.0  # `at`: once a day
    return max(MIN_HOST_GAP, 3 * (interval + float(beat.jitter)))


def _boot_time(given: float | None) -> float | None:
    if given is not None:
        return given
    try:
        import psutil

        return float(psutil.boot_time())
    except Exception:  # boot time is a hint only
        return None
