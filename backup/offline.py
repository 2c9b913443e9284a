"""The offline copy (BAK-1): a complete, verifiable repository on removable media.

`offline_copy` creates (explicitly: this is the command's purpose) a restic repository in
`<media>/hostward-offline` with the source repository's chunker parameters, copies the newest
snapshot into it with `restic copy`, reads all of its data back (`check --read-data`) and
writes `MEDIA.json` beside it (media id, date, snapshot ids). The password is the source
repository's, so whoever can restore the backups can restore the media.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from backup.errors import BackupError, RepositoryMissing, ResticFailed
from backup.plan import Plan
from backup.restic import Repository
from backup.restore import resolve_snapshot
from collectors.system.runner import Runner

DIRNAME = "hostward-offline"
LABEL = "MEDIA.json"


@dataclass(frozen=True)
class OfflineResult:
    media_id: str
    path: str
    source: str
    snapshot_id: str
    time: float
    duration: float
    check_ok: bool


def offline_copy(
    plan: Plan,
    runner: Runner,
    *,
    to: str,
    media_id: str,
    source: str = "primary",
    timeout: float = 24 * 3600.0,
) -> OfflineResult:
    """Copy the newest snapshot of `source` to the media mounted at `to`; raise on failure."""
    if not os.path.isdir(to):
        raise RepositoryMissing(f"offline:{media_id}", f"{to} is not a directory (media not mounted?)")
    src_repo = plan.repository(source)
    dest_path = Path(to) / DIRNAME
    dest = Repository(f"offline:{media_id}", str(dest_path), src_repo.password_file, src_repo.password_env)
    src = plan.restic(src_repo, runner)
    dst = plan.restic(dest, runner)
    started = time.monotonic()
    snapshot = resolve_snapshot(src, "latest")
    if not (dest_path / "config").exists():
        dst.init(copy_chunker_from=src_repo)
    dst.copy(src_repo, (snapshot.id,), timeout=timeout)
    copied = [s for s in dst.snapshots() if s.original == snapshot.id or s.id == snapshot.id]
    if not copied:
        raise ResticFailed(dest.name, f"snapshot {snapshot.short_id} is not on the media after copy")
    check = dst.check(read_data_subset="100%", timeout=timeout)
    if not check.ok:
        raise ResticFailed(
            dest.name, "the copy on the media does not read back: " + "; ".join(check.problems[:3])
        )
    now = time.time()
    label = {
        "media_id": media_id,
        "time": now,
        "date": time.strftime("%Y-%m-%d", time.localtime(now)),
        "host": socket.gethostname(),
        "source": source,
        "snapshot_id": snapshot.id,
        "copied_snapshot_id": copied[-1].id,
    }
    try:
        (dest_path / LABEL).write_text(json.dumps(label, ensure_ascii=False, indent=2), encoding="utf-8")
    except OSError as exc:
        raise ResticFailed(dest.name, f"cannot write {LABEL}: {exc}") from exc
    return OfflineResult(media_id, str(dest_path), source, snapshot.id, now, time.monotonic() - started, True)


def read_label(to: str) -> dict[str, object]:
    """The MEDIA.json of a media, or raise BackupError."""
    path = Path(to) / DIRNAME / LABEL
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"offline:{to}", f"no readable {LABEL}: {exc}") from exc
    return dict(data)
