"""The dual-copy plan: which repositories, sources and excludes, and how the secondary gets
each night's snapshot. The night itself is backup/night.py (`run_backup`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from backup.config import BackupConfig, HookConfig
from backup.coverage import DEFAULT_WINDOW
from backup.mirror import is_mirror_of, local_path
from backup.restic import Repository, Restic
from backup.sftp import ssh_options
from collectors.system.runner import Runner
from common.errors import HostwardError
from common.frozen import frozen

NAMES = ("primary", "secondary")


class NotConfigured(HostwardError):
    """`backup.sources` or `backup.repositories` is empty."""


@frozen
class Plan:
    """The dual-copy plan from the config: sources and excludes, the repositories, hooks, restic's
    binary and time limits, and how the secondary gets each night's snapshot."""

    sources: tuple[str, ...]
    excludes: tuple[str, ...]
    repositories: tuple[Repository, ...]
    pre: tuple[HookConfig, ...] = ()
    post: tuple[HookConfig, ...] = ()
    binary: str = "restic"
    cache_dir: str = ""
    lock_wait: float = 600.0
    command_timeout: float = 300.0
    secondary_mode: str = "mirror"  # "mirror" (where the secondary is one) or "independent"
    coverage_window: float = DEFAULT_WINDOW
    protect: tuple[str, ...] = ()  # our own paths, kept out of every backup (backup/excludes.py)
    inspect_sources: bool = True  # look at every source before the backup (backup/sources.py)
    fs_snapshot: bool = False  # Windows: back up from a VSS snapshot (`--use-fs-snapshot`)

    def restic(self, repo: Repository, runner: Runner) -> Restic:
        return Restic(
            repo, runner, binary=self.binary, cache_dir=self.cache_dir, timeout=self.command_timeout
        )

    def repository(self, name: str) -> Repository:
        for repo in self.repositories:
            if repo.name == name:
                return repo
        raise NotConfigured(f"backup.repositories.{name} is not configured")

    def mirror_source(self, repo: Repository) -> Repository | None:
        """The primary, when `repo` is a secondary `hostward backup init` makes a mirror of it."""
        names = {r.name: r for r in self.repositories}
        primary = names.get("primary")
        if self.secondary_mode != "mirror" or repo.name != "secondary" or primary is None:
            return None
        return primary if local_path(primary.url) and local_path(repo.url) else None

    def mirror_pair(self) -> tuple[Repository, Repository] | None:
        """(primary, secondary) when the secondary is a local mirror of the primary."""
        names = {r.name: r for r in self.repositories}
        p, s = names.get("primary"), names.get("secondary")
        if self.secondary_mode != "mirror" or p is None or s is None or not is_mirror_of(p.url, s.url):
            return None
        return p, s


def build_plan(
    config: BackupConfig, default_cache_dir: str, require_sources: bool = True, protect: Sequence[str] = ()
) -> Plan:
    """The plan described by the `backup:` config; raises NotConfigured when it says nothing.

    `protect` (the state directory, the offline media) joins the local repositories, restic's
    cache and the drill scratch directory as paths excluded from every backup."""
    repos = []
    for name in NAMES:
        rc = getattr(config.repositories, name)
        if rc is not None:
            ssh = ssh_options(rc.ssh) if rc.ssh is not None else None
            repos.append(Repository(name, rc.url, rc.password_file, rc.password_env, rc.limit_upload, ssh))
    if not repos:
        raise NotConfigured("backup.repositories has neither primary nor secondary")
    if require_sources and not config.sources:
        raise NotConfigured("backup.sources is empty")
    return Plan(
        sources=config.sources,
        excludes=config.exclude,
        repositories=tuple(repos),
        pre=config.hooks.pre,
        post=config.hooks.post,
        binary=config.restic,
        cache_dir=config.cache_dir or default_cache_dir,
        lock_wait=float(config.lock_wait),
        command_timeout=float(config.command_timeout),
        secondary_mode=config.secondary_mode,
        coverage_window=float(config.coverage_window),
        protect=_own_paths(repos, config.cache_dir or default_cache_dir, config.drill.scratch_dir, protect),
        fs_snapshot=sys.platform == "win32",  # open files (Outlook, databases) are read consistently
    )


def _own_paths(
    repos: Sequence[Repository], cache_dir: str, scratch_dir: str, more: Sequence[str]
) -> tuple[str, ...]:
    local = [str(p) for p in (local_path(r.url) for r in repos) if p is not None]
    return tuple(dict.fromkeys(p for p in (*local, cache_dir, scratch_dir, *more) if p))
