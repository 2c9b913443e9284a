"""Enforcement as an action: run the opted-in remediations and journal every change.

Every record that changed something (result True with changes) or failed (result False) is
appended to the hash-chained journal; a dry run changes nothing and journals nothing.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from pathlib import Path

from agent.config.schema import Config
from agent.journal import Journal
from collectors.system.runner import Runner, SubprocessRunner
from policies.audit import inputs_from, this_platform
from policies.context import Target
from policies.enforce import enforce
from policies.enforce_base import Change
from policies.library import PolicyStore


def perform_enforce(
    config: Config,
    state_dir: Path,
    *,
    only: Iterable[str] | None = None,
    dry_run: bool = False,
    root: str = "/",
    runner: Runner | None = None,
) -> list[Change]:
    library, _ = PolicyStore(config.audit.policy_dirs).load()
    target = Target(
        config.host.name or socket.gethostname(),
        config.host.role,
        this_platform(),
        root,
        live=root in ("/", ""),
    )
    records = enforce(
        library,
        target,
        runner or SubprocessRunner(),
        inputs_from(config.audit, None),
        opted_in=config.audit.enforce,
        only=only,
        overrides=config.audit.overrides,
        dry_run=dry_run,
    )
    if not dry_run:
        journal = Journal(state_dir)
        for change in records:
            if change.result is False or (change.result and change.changes):
                kind = "enforce.apply" if change.result else "enforce.failed"
                journal.append(kind, {**change.to_json(), "host": target.hostname, "root": root})
    return records
