"""Stale locks: cleared only when their owner is a dead process on this host.

A `kill -9` of restic (or of the agent, whose children die with it) leaves a lock file behind.
We read every lock (`restic list locks` + `restic cat lock ID`) and call `restic unlock` (never
`--remove-all`) only when each lock present is either owned by a dead process on this host or
young enough that restic's own staleness rule (older than 30 minutes, or a dead process on
this host) cannot remove it: so `unlock` removes exactly the locks we judged dead. A live
exclusive lock (prune, check of another process) makes us wait up to `wait` seconds, then fail
clearly with the owner named.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

from backup.errors import RepositoryLocked, ResticFailed
from backup.model import LockInfo
from backup.restic import Restic
from collectors.system.live_processes import live_process
from common.frozen import frozen

log = logging.getLogger(__name__)
_RESTIC_STALE_AFTER = 30 * 60
_SAFETY = 5 * 60  # a lock this close to restic's 30 minutes is left to the waiting loop


@frozen
class LockReport:
    """The stale locks removed, and how long (seconds) it took until the repository was usable."""

    removed: tuple[LockInfo, ...] = ()
    waited: float = 0.0


def pid_alive(pid: int, since: float) -> bool:
    """Is `pid` a live process that existed at `since` (epoch)? A reused PID counts as dead.

    A live `restic` is always taken for the owner, whatever the times say: the lock's time
    and the process start (boot time + ticks, read through the wall clock) disagree as soon
    as the wall clock jumps, and a live lock judged dead is the one mistake we must not make
    (a stopped or slow restic still owns its lock). Erring the other way only makes us wait.
    """
    found = live_process(pid)
    if found is None:
        return False
    if found.name in ("restic", None):
        return True
    return found.started is None or found.started <= since + 2.0


def is_dead_here(lock: LockInfo, hostname: str, alive: Callable[[int, float], bool] = pid_alive) -> bool:
    return lock.hostname == hostname and not alive(lock.pid, lock.time)


def settle_locks(
    restic: Restic,
    *,
    wait: float,
    exclusive: bool,
    hostname: str | None = None,
    alive: Callable[[int, float], bool] = pid_alive,
    sleep: Callable[[float], None] = time.sleep,
) -> LockReport:
    """Make the repository usable for an operation (`exclusive`: prune/forget/check).

    Returns what was removed and how long we waited; raises RepositoryLocked when a live lock
    that conflicts is still there after `wait` seconds.
    """
    host = hostname or socket.gethostname()
    started = time.monotonic()
    removed: list[LockInfo] = []
    tried: set[str] = set()  # restic may disagree (a reused PID): never loop on unlock
    while True:
        locks = _read_locks(restic)
        dead = [lk for lk in locks if is_dead_here(lk, host, alive)]
        live = [lk for lk in locks if lk not in dead]
        now = time.time()
        risky = [lk for lk in live if now - lk.time > _RESTIC_STALE_AFTER - _SAFETY]
        if dead and not risky and not tried.intersection(lk.id for lk in dead):
            tried.update(lk.id for lk in dead)
            for lk in dead:
                log.warning(
                    "%s: removing stale lock %s of dead PID %s on %s",
                    restic.repo.name,
                    lk.id[:8],
                    lk.pid,
                    lk.hostname,
                )
            restic.unlock()
            removed.extend(dead)
            continue
        stuck = risky or tried.intersection(lk.id for lk in dead)
        conflicting = [lk for lk in live if exclusive or lk.exclusive] + (dead if stuck else [])
        if not conflicting:
            return LockReport(tuple(removed), time.monotonic() - started)
        waited = time.monotonic() - started
        if waited >= wait:
            owner = conflicting[0]
            # another host's process: we cannot tell whether it lives
            state = "PID" if owner.hostname != host else "dead PID" if owner in dead else "live PID"
            raise RepositoryLocked(
                restic.repo.name,
                f"locked by {state} {owner.pid} on {owner.hostname} since "
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(owner.time))}; waited {waited:.0f}s",
            )
        sleep(min(5.0, max(0.2, wait - waited)))


def _read_locks(restic: Restic) -> list[LockInfo]:
    locks = []
    for lock_id in restic.list_locks():
        try:
            locks.append(restic.cat_lock(lock_id))
        except ResticFailed:  # released between list and cat
            continue
    return locks
