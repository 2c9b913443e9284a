"""Enforcement as an action: run the opted-in remediations and journal every change.

Every record that changed something (result True with changes), failed (result False) or was
left alone under a waiver (`enforce.waived`) is appended to the hash-chained journal; a dry run
changes nothing and journals nothing.

Crash safety (policies/undo.py): a real run keeps an undo log in the state directory while it
changes things; its journal entries carry the log's id, then the log is removed. At the next
start (`recover_enforcement`, called by `hostward enforce` and by the daemon) a log left by a
`kill -9` is either found committed in the journal or rolled back, and the rollback journaled.
"""

from __future__ import annotations

import logging
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
from policies.undo import Rollback, UndoLog, discard, pending, rollback, run_lock

UNDO_FILE = "enforce-undo.json"
LOCK_FILE = "enforce.lock"
log = logging.getLogger(__name__)


def recover_enforcement(state_dir: Path) -> Rollback | None:
    """Finish what an interrupted enforcement left: roll it back unless it was journaled.

    Returns what was rolled back (None: nothing pending, it had been committed, or a live
    `hostward enforce` holds the lock: its log is in use). Raises HostwardError when the log
    or the files cannot be handled.
    """
    with run_lock(Path(state_dir) / LOCK_FILE, wait=False) as mine:
        if not mine:
            log.info("an enforcement is running: its undo log is in use, nothing to recover")
            return None
        return _recover(state_dir)


def _recover(state_dir: Path) -> Rollback | None:
    path = Path(state_dir) / UNDO_FILE
    data = pending(path)
    if data is None:
        return None
    journal = Journal(state_dir)
    if any(entry.data.get("intent") == data["id"] for entry in journal.entries()):
        log.info("enforcement %s had been journaled before it was interrupted", data["id"][:8])
        discard(path)
        return None
    done = rollback(data)
    log.warning(
        "enforcement %s was interrupted: rolled back %s; commands that may have run: %s",
        done.intent[:8],
        ", ".join(done.restored) or "no file",
        ", ".join(done.commands) or "none",
    )
    journal.append(
        "enforce.rolled_back",
        {
            "intent": done.intent,
            "root": done.root,
            "started": done.started,
            "restored": list(done.restored),
            "commands_may_have_run": list(done.commands),
        },
    )
    discard(path)
    return done


def perform_enforce(
    config: Config,
    state_dir: Path,
    *,
    only: Iterable[str] | None = None,
    dry_run: bool = False,
    root: str = "/",
    runner: Runner | None = None,
) -> list[Change]:
    if dry_run:
        return _enforce(config, state_dir, only, dry_run, root, runner)
    with run_lock(Path(state_dir) / LOCK_FILE, wait=True):  # one run at a time, never under a recovery
        _recover(state_dir)
        return _enforce(config, state_dir, only, dry_run, root, runner)


def _enforce(
    config: Config,
    state_dir: Path,
    only: Iterable[str] | None,
    dry_run: bool,
    root: str,
    runner: Runner | None,
) -> list[Change]:
    library, _ = PolicyStore(config.audit.policy_dirs).load()
    target = Target(
        config.host.name or socket.gethostname(),
        config.host.role,
        this_platform(),
        root,
        live=root in ("/", ""),
    )
    undo = None if dry_run else UndoLog(Path(state_dir) / UNDO_FILE, root)
    records = enforce(
        library,
        target,
        runner or SubprocessRunner(),
        inputs_from(config.audit, None),
        opted_in=config.audit.enforce,
        only=only,
        overrides=config.audit.overrides,
        waivers=config.audit.waivers,
        exemptions=config.audit.person_exemptions,
        dry_run=dry_run,
        undo=undo,
    )
    if undo is not None:
        journal = Journal(state_dir)
        for change in records:
            if change.waived is not None or change.result is False or (change.result and change.changes):
                kind = "enforce.apply" if change.result else "enforce.failed"
                kind = "enforce.waived" if change.waived is not None else kind
                data = {**change.to_json(), "host": target.hostname, "root": root}
                journal.append(kind, {**data, "intent": undo.id} if undo.id else data)
        undo.commit()
    return records
