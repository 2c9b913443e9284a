"""The devices job: poll machine-room gear, keep the outage book, store record kind "devices".

The same code runs from the scheduler (`devices_job`) and the CLI (`hostward devices poll`).
It also keeps the agent's own host in the outage book (a heartbeat gap is an outage), so it
runs even where no device is configured; pysnmp is then never imported.

BAK-6: a UPS that goes from mains to battery calls the `on_battery` hook once per transition
(the lead wires it to "back up now"). A failing hook is logged and never fails the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.actions.base import JobAction, JobContext, JobOutcome
from agent.config.schema import Config
from agent.state import State
from collectors.devices import outages
from collectors.devices.records import DeviceResult

log = logging.getLogger(__name__)

RECORD_KIND = "devices"
_BOOK_KEY = "devices.outages"
_HEARTBEAT_KEY = "devices.host_last_seen"
_ON_BATTERY_KEY = "devices.ups_on_battery"
MIN_HOST_GAP = 300.0

OnBatteryHook = Callable[[DeviceResult], None]


@dataclass(frozen=True)
class PollRound:
    results: tuple[DeviceResult, ...]
    book: dict[str, Any]
    changes: outages.Changes
    went_on_battery: tuple[str, ...]

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
) -> PollRound:
    """Poll all SNMP devices, update outages (devices and this host), store the record."""
    results: tuple[DeviceResult, ...] = ()
    if config.devices:  # imported only then: asyncio and ssl cost ~3 MiB resident
        from collectors.devices.poll import DEFAULT_CONCURRENCY, poll_devices

        results = tuple(poll_devices(config.devices, concurrency or DEFAULT_CONCURRENCY, v2c_engine))
    now = time.time() if now is None else now
    book = state.get(_BOOK_KEY) if state else None
    if state is not None:
        book, host_outage = outages.record_host_gap(
            book, state.get(_HEARTBEAT_KEY), now, _max_gap(config), _boot_time(boot_time)
        )
        if host_outage is not None:
            log.warning("this host was unseen for %.0fs: %s", host_outage.seconds(now), host_outage.reason)
    book, changes = outages.update(book, {r.name: (r.up, r.reason) for r in results}, now)
    for outage in changes.started:
        log.warning("device %s down: %s", outage.target, outage.reason)
    for outage in changes.ended:
        log.info("device %s back after %.0fs", outage.target, outage.seconds(now))
    went = _battery_transitions(results, state)
    for result in results:
        if result.name in went and on_battery is not None:
            try:
                on_battery(result)
            except Exception:  # a side channel never fails the poll
                log.exception("on-battery hook failed for UPS %s", result.name)
    if state is not None:
        state.put(_BOOK_KEY, book)
        state.put(_HEARTBEAT_KEY, now)
        state.put_record(RECORD_KIND, {"devices": [r.to_dict() for r in results], "outages": book}, taken=now)
    return PollRound(results, book, changes, went)


def devices_job_with(on_battery: Callable[[JobContext, DeviceResult], None] | None = None) -> JobAction:
    """The scheduled action; `on_battery(ctx, ups_result)` runs when a UPS leaves mains power."""

    def devices_job(ctx: JobContext) -> JobOutcome:
        hook: OnBatteryHook | None = None
        if on_battery is not None:

            def hook(result: DeviceResult) -> None:
                on_battery(ctx, result)

        round_ = poll_and_record(ctx.config, ctx.state, on_battery=hook)
        failed = round_.failed
        if not failed:
            return JobOutcome(True)
        error = "; ".join(f"{r.name}: {r.reason}" for r in failed)
        return JobOutcome(
            False,
            f"{len(failed)} of {len(round_.results)} devices down: {error}",
            partial=len(failed) < len(round_.results),
        )

    return devices_job


def backup_now(ctx: JobContext, ups: DeviceResult) -> None:
    """BAK-6: a UPS left mains power, so take a backup while there is battery left."""
    if ctx.request_run is None:
        log.warning("UPS %s is on battery; no scheduler to start a backup from", ups.name)
        return
    answer = ctx.request_run("backup")
    if answer == "started":
        log.warning("UPS %s is on battery: backup started now (BAK-6)", ups.name)
    elif answer == "busy":
        log.warning("UPS %s is on battery: a backup is already running (BAK-6)", ups.name)
    else:
        log.warning("UPS %s is on battery, but no backup is configured on this host (BAK-6)", ups.name)


devices_job: JobAction = devices_job_with(on_battery=backup_now)


def _battery_transitions(results: tuple[DeviceResult, ...], state: State | None) -> tuple[str, ...]:
    previous: dict[str, bool] = (state.get(_ON_BATTERY_KEY) if state else None) or {}
    current = dict(previous)
    went = []
    for result in results:
        if result.ups is None:
            continue
        if result.ups.on_battery and not previous.get(result.name, False):
            went.append(result.name)
        current[result.name] = result.ups.on_battery
    if state is not None and current != previous:
        state.put(_ON_BATTERY_KEY, current)
    return tuple(went)


def _max_gap(config: Config) -> float:
    every = getattr(getattr(config, "devices_schedule", None), "every", None) or 60.0
    return max(MIN_HOST_GAP, 3 * float(every))


def _boot_time(given: float | None) -> float | None:
    if given is not None:
        return given
    try:
        import psutil

        return float(psutil.boot_time())
    except Exception:  # boot time is a hint only
        return None
