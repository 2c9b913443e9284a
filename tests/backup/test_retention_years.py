"""Retention proven over years (BAK-3): six years of dated snapshots, the scheduled prune.

Snapshots are made by the real restic with `backup --time` into the primary and mirrored into
the secondary (as each night does). The default policy must keep every snapshot of the five
years before the newest, the last snapshot of every year for good, and nothing else; the
mirrored secondary must end up file for file the primary; a prune killed with SIGKILL must
leave both repositories recoverable by the next scheduled prune.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import psutil
from backup_kit import Env, restic_children, write_tree

from backup.config import RetentionConfig
from backup.mirror import mirror
from backup.model import RUN_TAG
from backup.results import PruneResult
from backup.retention import run_prune

# label -> snapshot time (UTC); the newest is 2026-06-01, so "within 5y" starts 2021-06-01.
DATED = {
    "2020-jan": "2020-01-15 10:00:00",  # older than 5 years, not its year's last: forgotten
    "2020-oct": "2020-10-20 10:00:00",  # 2020's last: kept for good
    "2021-may": "2021-05-31 10:00:00",  # one day older than 5 years, not 2021's last: forgotten
    "2021-jun": "2021-06-02 10:00:00",  # inside the five years: kept
    "2026-jun": "2026-06-01 10:00:00",  # the newest: kept
}
KEPT = {"2020-oct", "2021-jun", "2026-jun"}
CHECKED = {"primary": True, "secondary": True}


def _files(repo: Path) -> dict[str, bytes]:
    """Every restic file of a repository (our mirror bookkeeping left out), with content."""
    return {
        str(p.relative_to(repo)): p.read_bytes()
        for p in repo.rglob("*")
        if p.is_file() and "hostward-mirror" not in p.parts and p.parent.name != "locks"
    }


def _six_years(env: Env) -> None:
    write_tree(env.source, size=20_000)
    restic = env.restic("primary")
    for label, when in DATED.items():
        (env.source / f"{label}.bin").write_bytes(os.urandom(30_000))  # each year adds data
        restic.run(("backup", "-q", "--json", "--time", when, "--tag", f"{RUN_TAG}{label}",
                    "--tag", "hostward", "--", str(env.source)))  # fmt: skip
    mirror(str(env.root / "primary"), str(env.root / "secondary"))


def _labels(env: Env, name: str) -> set[str]:
    return {s.run_id for s in env.restic(name).snapshots()}


def _prune(env: Env) -> tuple[PruneResult, ...]:
    return run_prune(env.plan(), env.runner, RetentionConfig(), last_check_ok=CHECKED, timeout=120)


def _data_bytes(repo: Path) -> int:
    return sum(p.stat().st_size for p in (repo / "data").rglob("*") if p.is_file())


def test_six_years_keep_five_years_and_one_per_year_even_when_the_prune_is_killed_and_the_mirror_follows(
    env: Env,
) -> None:
    env.init_mirror()
    _six_years(env)
    primary, secondary = env.root / "primary", env.root / "secondary"
    # the scheduled prune, killed with SIGKILL once restic prune holds its lock
    box: dict[str, tuple[PruneResult, ...]] = {}
    worker = threading.Thread(target=lambda: box.update(r=_prune(env)))
    worker.start()
    locks = primary / "locks"
    killed = False
    deadline = time.monotonic() + 60
    while worker.is_alive() and time.monotonic() < deadline and not killed:
        for proc in restic_children(os.getpid()):
            try:
                if "prune" in proc.cmdline() and any("-tmp-" not in p.name for p in locks.iterdir()):
                    proc.send_signal(signal.SIGKILL)
                    killed = True
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.002)
    worker.join(60)
    assert killed, "restic prune was not caught running"
    first = [(r.repository, r.status, r.error_kind) for r in box["r"]]
    assert first[0] == ("primary", "failed", "interrupted") and first[1][1] == "skipped", first
    assert env.restic("primary").list_locks(), "the killed prune left its exclusive lock"
    assert _labels(env, "primary") == KEPT  # forget had finished; the unused data is still stored
    stored = _data_bytes(primary)
    # the next scheduled prune: clears the dead lock, finishes the prune, the mirror follows
    results = _prune(env)
    assert [(r.repository, r.status) for r in results] == [("primary", "ok"), ("secondary", "ok")]
    assert env.restic("primary").list_locks() == ()  # restic may leave a half-written lock: none counts
    assert _data_bytes(primary) < stored  # the forgotten years' data is gone now
    assert _labels(env, "primary") == KEPT
    assert _labels(env, "secondary") == KEPT
    assert _files(secondary) == _files(primary)  # identical, file for file
    for name in ("primary", "secondary"):
        assert env.restic(name).check().ok
