"""The `inventory` job: the asset register of this host (ROOM-5), kept and compared.

Each run reads the register (collectors/inventory), compares it with the stored one and, for
each change (collectors/inventory/diff.py), journals `inventory.changed` with before and after
and counts it by kind; the counts live in the stored record, so
`hostward_inventory_changes_total{kind}` survives a restart. The first run registers the host
(`inventory.registered`). `hostward inventory` (the CLI) on the live host stores and journals
the same way (`store_inventory`); the comparison is one transaction (InventoryUpdate), so the
CLI next to the job counts every change once.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.actions.audit import USB_KEY
from agent.actions.base import JobContext, JobOutcome
from agent.config.schema import Config
from agent.journal import Journal, JournalError
from agent.records.inventory import InventoryRecord, InventoryUpdate
from agent.records.inventory import counts_after as counts_after  # where it always was
from agent.state import State
from collectors.inventory.diff import Change
from collectors.inventory.gather import gather
from collectors.inventory.model import Inventory, identity
from collectors.system.runner import Runner, SubprocessRunner

RECORD_KIND = InventoryRecord.KIND
# Sections every host has, whose failure makes the run partial. The others can be missing for
# a reason that is no fault of the run (a VM without an SMBIOS table, a device down: the devices
# job reports it); they are `error` in the register and in hostward_inventory_section_error.
MAJOR_SECTIONS = ("adapters", "software", "os")


def usb_history(state: State | None) -> list[dict[str, Any]] | None:
    """USB storage devices seen (first/last seen per device), as the audit job keeps them."""
    if state is None:
        return None
    seen = state.get(USB_KEY) or {}
    return [dict(v) for v in seen.values() if isinstance(v, dict)] if isinstance(seen, dict) else []


def perform_inventory(
    config: Config,
    state: State | None,
    root: str = "/",
    runner: Runner | None = None,
    *,
    devices: bool = False,
) -> Inventory:
    """The register of the host under `root`; with `devices` (and the live host: the devices are
    this host's config, not an image's), also the ENTITY-MIB register of the configured SNMP
    devices (read over the network: the job, or the CLI's --devices)."""
    found = gather(
        runner or SubprocessRunner(memory_limit=config.limits.check_memory_max_bytes),
        root,
        usb_seen=usb_history(state),
        host=config.host.name,
    )
    if not devices or not found.live or not any(d.snmp is not None for d in config.devices):
        return found
    from collectors.inventory.devices import device_register  # the SNMP code, only when needed

    return replace(found, sections={**found.sections, "devices": device_register(config.devices)})


def store_inventory(
    state: State, state_dir: Path, inventory: Inventory, logger: logging.Logger, keep: tuple[str, ...] = ()
) -> list[Change]:
    """Compare `inventory` with the stored register and store it (one transaction), then journal
    the first register or the changes. Returns the changes. `keep`: see InventoryUpdate."""
    update = InventoryUpdate(inventory.to_payload(), keep)
    before, _ = state.update_record(update, taken=inventory.taken)
    _, found = update.outcome(before)
    try:
        journal = Journal(state_dir)
        if before is None:
            journal.append("inventory.registered", {"identity": identity(dict(update.payload))})
        elif found:
            journal.append("inventory.changed", {"changes": [c.to_payload() for c in found]})
    except JournalError as exc:  # a side channel never fails the main job
        logger.warning("inventory: %s", exc)
    for change in found:
        logger.info("inventory: %s %s changed", change.kind, change.item)
    return found


def inventory_job(ctx: JobContext) -> JobOutcome:
    """Read, compare with the stored register, journal the changes, store. Sections that could
    not be read are not compared; MAJOR_SECTIONS among them make the run partial."""
    return record_inventory(ctx)


def record_inventory(ctx: JobContext, root: str = "/", runner: Runner | None = None) -> JobOutcome:
    """The job's work on the system under `root` (tests pass a fixture tree)."""
    inventory = perform_inventory(ctx.config, ctx.state, root, runner, devices=True)
    store_inventory(ctx.state, ctx.state_dir, inventory, ctx.log)
    failed = sorted(name for name, s in inventory.sections.items() if s.status == "error")
    if failed:
        ctx.log.warning("inventory: could not read %s", ", ".join(failed))
    major = [name for name in failed if name in MAJOR_SECTIONS]
    if major:
        return JobOutcome(success=True, error=f"could not read: {', '.join(major)}", partial=True)
    return JobOutcome(success=True)
