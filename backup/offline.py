"""The offline copy (BAK-1): a complete, verifiable repository on removable media.

`offline_copy` creates (explicitly: this is the command's purpose) a restic repository in
`<media>/hostward-offline` with the source repository's chunker parameters, or reuses the one
already there, and copies into it every snapshot of the source that it does not hold yet
(`restic copy` skips snapshots already copied, so a media brought back next month receives
only what is new). It then reads the media's data back (`check --read-data-subset`, all of it
by default) and checks that every source snapshot is on the media by restic's `original` id.
`MEDIA.json` beside the repository records the media id, the date, the source snapshot ids
and the media's own ids, and the previous writes. The password is the source repository's,
so whoever can restore the backups can restore the media.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backup.errors import BackupError, RepositoryMissing, ResticFailed
from backup.model import Snapshot
from backup.plan import Plan
from backup.restic import Repository
from backup.results import OfflineResult
from collectors.system.runner import Runner

DIRNAME = "hostward-offline"
LABEL = "MEDIA.json"


def offline_copy(
    plan: Plan,
    runner: Runner,
    *,
    to: str,
    media_id: str,
    source: str = "primary",
    read_subset: str = "100%",
    timeout: float = 24 * 3600.0,
) -> OfflineResult:
    """Copy every snapshot of `source` not yet on the media mounted at `to`; raise on failure."""
    if not os.path.isdir(to):
        raise RepositoryMissing(f"offline:{media_id}", f"{to} is not a directory (media not mounted?)")
    src_repo = plan.repository(source)
    dest_path = Path(to) / DIRNAME
    dest = Repository(f"offline:{media_id}", str(dest_path), src_repo.password_file, src_repo.password_env)
    src = plan.restic(src_repo, runner)
    dst = plan.restic(dest, runner)
    started = time.monotonic()
    wanted = src.snapshots()
    if not wanted:
        raise ResticFailed(src_repo.name, "the source repository holds no snapshot to copy")
    if not (dest_path / "config").exists():
        dst.init(copy_chunker_from=src_repo)
    before = _originals(dst.snapshots())
    dst.copy(src_repo, (), timeout=timeout)  # every snapshot; restic skips those already there
    on_media = dst.snapshots()
    originals = _originals(on_media)
    missing = [s.short_id for s in wanted if _key(s) not in originals]
    if missing:
        raise ResticFailed(dest.name, f"snapshots not on the media after copy: {', '.join(missing[:10])}")
    check = dst.check(read_data_subset=read_subset, timeout=timeout)
    if not check.ok:
        raise ResticFailed(
            dest.name, "the copy on the media does not read back: " + "; ".join(check.problems[:3])
        )
    now = time.time()
    copied = len([s for s in wanted if _key(s) not in before])
    label = {
        "media_id": media_id,
        "time": now,
        "date": time.strftime("%Y-%m-%d", time.localtime(now)),
        "host": socket.gethostname(),
        "source": source,
        "snapshot_id": wanted[-1].id,
        "snapshots": [{"source_id": s.id, "media_id": originals[_key(s)], "time": s.time} for s in wanted],
        "copied": copied,
        "check": {"ok": True, "read_data_subset": read_subset, "duration": check.duration},
        "previous": _previous(dest_path),
    }
    try:
        tmp = dest_path / (LABEL + ".tmp")
        tmp.write_text(json.dumps(label, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, dest_path / LABEL)
    except OSError as exc:
        raise ResticFailed(dest.name, f"cannot write {LABEL}: {exc}") from exc
    return OfflineResult(
        media_id, str(dest_path), source, wanted[-1].id, now, time.monotonic() - started, True,
        len(wanted), copied, read_subset,
    )  # fmt: skip


def _key(snapshot: Snapshot) -> str:
    """The id a copy remembers: restic keeps the first `original` through repeated copies."""
    return snapshot.original or snapshot.id


def _originals(snapshots: Sequence[Snapshot]) -> dict[str, str]:
    """{original id: media snapshot id} for the snapshots on the media."""
    return {_key(s): s.id for s in snapshots}


def _previous(dest_path: Path) -> list[dict[str, Any]]:
    """The earlier writes of this media (date, media id, snapshot count), newest last."""
    try:
        old = json.loads((dest_path / LABEL).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    if not isinstance(old, dict):  # the media may have been written by anything: keep nothing of it
        return []
    snapshots, previous = old.get("snapshots"), old.get("previous")
    entry = {
        "date": old.get("date") if isinstance(old.get("date"), str | int | float) else None,
        "media_id": old.get("media_id") if isinstance(old.get("media_id"), str) else None,
        "snapshots": len(snapshots) if isinstance(snapshots, list | dict) else 0,
    }
    kept = [p for p in previous[-23:] if isinstance(p, dict)] if isinstance(previous, list) else []
    return [*kept, entry]


def read_label(to: str) -> dict[str, object]:
    """The MEDIA.json of a media, or raise BackupError."""
    path = Path(to) / DIRNAME / LABEL
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise BackupError(f"offline:{to}", f"no readable {LABEL}: {exc}") from exc
    if not isinstance(data, dict):
        raise BackupError(f"offline:{to}", f"{LABEL} is not a JSON object")
    return dict(data)


def offline_repository(plan: Plan, media: str) -> Repository:
    """The offline copy on the media at `media` (its mount point, or the hostward-offline
    directory itself), to read from: restores and browsing.

    Its password is the one of the repository it was copied from (MEDIA.json's `source`),
    taken from this host's configuration; when the label is unreadable, or names a repository
    no longer configured (a rebuilt host), the primary's password is tried: restic then says
    plainly whether it opens the repository.
    """
    path = Path(media)
    if path.name != DIRNAME and (path / DIRNAME).is_dir():
        path = path / DIRNAME
    if not (path / "config").is_file():
        raise RepositoryMissing(
            f"offline:{media}",
            f"no offline copy at {media} (expected {Path(media) / DIRNAME}/config: is the media "
            "mounted?) / 未找到离线副本，介质是否已挂载？",
        )
    try:
        label = read_label(str(path.parent))
    except BackupError:
        label = {}
    source = label.get("source") if isinstance(label.get("source"), str) else "primary"
    names = {r.name for r in plan.repositories}
    src = plan.repository(str(source) if source in names else "primary")
    media_id = label.get("media_id") if isinstance(label.get("media_id"), str) else path.parent.name
    return Repository(f"offline:{media_id}", str(path), src.password_file, src.password_env)
