"""The `backup:` config section (schema). The agent composes it into its config.

Every field's help text becomes a comment in `hostward config default`. The stable keys
(DESIGN.md): sources, exclude, schedule, repositories.primary, repositories.secondary,
retention, hooks, drill.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from backup.sftp import sftp_url_problem, unsafe_path
from common.frozen import frozen
from common.schema import Duration, setting
from common.schema.common import Schedule
from common.schema.fields import at_least, between


@frozen
class SshConfig:
    """How hostward reaches an `sftp:` repository: its own ssh command, host key pinned."""

    identity_file: str = setting(
        doc="Private key hostward logs in with (mode 0600). Password login is never used."
    )
    known_hosts_file: str = setting(
        doc="known_hosts file pinning the server's host key ([host]:port for ports other than 22).\n"
        "An unknown or changed key fails this repository; keys are never accepted automatically."
    )
    port: int = setting(22, "SSH port of the remote site.", check=between(1, 65535))
    connect_timeout: int = setting(15, "Seconds to wait for the connection.", check=between(1, 600))
    alive_interval: int = setting(
        15, "Seconds between keepalives; a link that stops answering is noticed.", check=between(1, 600)
    )
    alive_count: int = setting(4, "Unanswered keepalives before the link is given up.", check=between(1, 100))

    def problems(self) -> Iterator[tuple[str, str]]:
        for key in ("identity_file", "known_hosts_file"):
            problem = unsafe_path(getattr(self, key))
            if problem:
                yield key, problem


@frozen
class RepositoryConfig:
    """One restic repository. The password lives in a file (0600) or an environment variable."""

    url: str = setting(doc="restic repository: a local path, sftp:user@host:/path, rest:https://...")
    password_file: str = setting("", "File holding the repository password (mode 0600).")
    password_env: str = setting("", "Or: name of an environment variable holding the password.")
    limit_upload: int = setting(
        0,
        "Upload limit in KiB/s for this repository (0: unlimited), e.g. a slow office line.",
        check=at_least(0),
    )
    ssh: SshConfig | None = setting(
        None,
        "For an sftp: url (required there): port, identity_file, known_hosts_file (the pinned\n"
        "host key), connect_timeout, alive_interval, alive_count (seconds).",
        example="{port: 22, identity_file: /etc/hostward/id_ed25519,"
        " known_hosts_file: /etc/hostward/known_hosts}",
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        if bool(self.password_file) == bool(self.password_env):
            yield "password_file", "give exactly one of password_file and password_env"
        if not self.url.strip():
            yield "url", "must not be empty"
        sftp = self.url.startswith("sftp:")
        if sftp:
            problem = sftp_url_problem(self.url)
            if problem:
                yield "url", problem
            if self.ssh is None:
                yield "ssh", "an sftp: repository needs ssh: {identity_file, known_hosts_file} (pinned key)"
        elif self.ssh is not None:
            yield "ssh", "only an sftp: repository takes ssh settings"


@frozen
class RepositoriesConfig:
    """Where the two copies go: the primary and the secondary repository."""

    primary: RepositoryConfig | None = setting(
        None,
        "The first copy, e.g. a local backup disk. Keys: url (a path, sftp:..., rest:...),\n"
        "password_file (mode 0600) or password_env (a variable name), limit_upload (KiB/s, 0: none),\n"
        "ssh (for sftp: port, identity_file, known_hosts_file). Object stores and clouds: restic's\n"
        "rclone: backend (not tested by hostward).\n"
        "A missing repository is never created implicitly: run `hostward backup init`.",
        example="{url: /mnt/backup-disk/hostward, password_file: /etc/hostward/restic.pass}",
    )
    secondary: RepositoryConfig | None = setting(
        None,
        "The second, independent copy on other media or another site (BAK-2, BAK-3). Off site over\n"
        "SSH: url sftp:user@host:/path and ssh: {port, identity_file (key login only),\n"
        "known_hosts_file (the pinned host key; an unknown or changed key fails this copy),\n"
        "connect_timeout, alive_interval, alive_count (seconds; a dead link is given up)}.",
        example='{url: "sftp:backup@offsite.example:/srv/hostward", password_file: /etc/hostward/restic.pass,'
        " ssh: {port: 22, identity_file: /etc/hostward/id_ed25519,"
        " known_hosts_file: /etc/hostward/known_hosts}}",
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.primary and self.secondary and self.primary.url == self.secondary.url:
            yield "secondary.url", "the two copies must live in different places (BAK-2)"


@frozen
class RetentionConfig:
    """What `forget` keeps. The default meets BAK-3: every snapshot of the last five years,
    and one snapshot per year for good."""

    keep_within: str = setting(
        "5y", 'Keep every snapshot newer than this, relative to the newest (restic syntax: "5y", "90d").'
    )
    keep_daily: int = setting(
        0, "Also keep the last N daily snapshots (0: no extra rule).", check=at_least(0)
    )
    keep_weekly: int = setting(0, "Also keep the last N weekly snapshots.", check=at_least(0))
    keep_monthly: int = setting(0, "Also keep the last N monthly snapshots.", check=at_least(0))
    keep_yearly: int = setting(
        1000, "Keep the last N yearly snapshots (1000: for good, BAK-3).", check=at_least(0)
    )
    schedule: Schedule = setting(
        factory=lambda: Schedule(at="04:30", jitter=Duration(1800), timeout=Duration(4 * 3600)),
        doc="forget + prune, apart from the backups; skipped on a repository whose last check failed.",
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        if not any(
            (self.keep_within, self.keep_daily, self.keep_weekly, self.keep_monthly, self.keep_yearly)
        ):
            yield "keep_within", "a retention policy that keeps nothing is refused"


@frozen
class HookConfig:
    """A command run before or after the backup, e.g. a database dump. Never a shell string."""

    argv: tuple[str, ...] = setting(
        doc="Program and arguments, as a list.",
        example='["/usr/local/bin/dump-his-db", "--out", /srv/his-data/dump.sql]',
    )
    timeout: Duration = setting(
        Duration(600), "A hook still running after this long fails the run.", check=at_least(1)
    )

    def problems(self) -> Iterator[tuple[str, str]]:
        if not self.argv:
            yield "argv", "must name a program"


@frozen
class HooksConfig:
    """Commands run before and after each backup."""

    pre: tuple[HookConfig, ...] = setting(
        (),
        "Run in order before the backup; a failing hook fails the run visibly (no backup).",
        example="- {argv: [/usr/local/bin/dump-his-db], timeout: 10m}",
    )
    post: tuple[HookConfig, ...] = setting(
        (), "Run in order after the backup (also after a failed one); a failure marks the run failed."
    )


@frozen
class VerifyConfig:
    """When both repositories are checked, and in how many slices their data is read."""

    schedule: Schedule = setting(
        factory=lambda: Schedule(at="03:30", jitter=Duration(1800), timeout=Duration(4 * 3600)),
        doc="`restic check` of both repositories plus one rotating slice of their data.",
    )
    read_data_parts: int = setting(
        30,
        "Data is read in this many slices, one per run: a daily run reads everything in a month.",
        check=between(1, 1000),
    )


@frozen
class DrillConfig:
    """Restore drills (BAK-5): the sampled drill's schedule and size, and the full drill's."""

    schedule: Schedule = setting(
        factory=lambda: Schedule(every=Duration(7 * 86400), jitter=Duration(3600), timeout=Duration(3600)),
        doc="Restore drills (BAK-5): restore a sample, compare hashes, record the time to restore.",
    )
    sample_files: int = setting(20, "Files restored per drill.", check=between(1, 100000))
    sample_bytes: int = setting(
        256 * 1024 * 1024, "At most this many bytes restored per drill.", check=at_least(1)
    )
    scratch_dir: str = setting("", "Where drills restore to; empty: a temporary directory.")
    full_schedule: Schedule = setting(
        factory=lambda: Schedule(
            every=Duration(90 * 86400), jitter=Duration(6 * 3600), timeout=Duration(12 * 3600), enabled=False
        ),
        doc="Full disaster-recovery drill (ROOM-2): restore a whole snapshot of each repository,\n"
        "verify every file, record the time and throughput. Off by default: it writes as much as\n"
        "the data to `full_target` and reads the whole repository (hours over a slow off-site\n"
        "link), and an interval job runs first when the agent starts. Run the first one by hand\n"
        "(`hostward backup drill --full`, which counts as this job's run) at a quiet hour, then\n"
        "enable: quarterly is the default.",
    )
    full_target: str = setting(
        "",
        "Where a full drill restores to (a scratch directory is made and removed there); it needs\n"
        "free room for the whole snapshot. Empty: <state_dir>/drill-full.",
    )


@frozen
class OfflineConfig:
    """The monthly offline copy (BAK-1): how old it may get."""

    max_age: Duration = setting(
        Duration(31 * 86400),
        "An offline copy older than this is overdue (BAK-1: monthly).",
        check=at_least(1),
    )


@frozen
class BackupConfig:
    """The `backup:` section: what is backed up, when and where to, what is kept, and how the copies
    are verified and drilled."""

    sources: tuple[str, ...] = setting((), "Paths to protect.", example="[/srv/his-data, /etc]")
    exclude: tuple[str, ...] = setting(
        (), "restic exclude patterns.", example='["*.tmp", /srv/his-data/cache]'
    )
    schedule: Schedule = setting(
        factory=lambda: Schedule(at="01:30", jitter=Duration(1800), timeout=Duration(6 * 3600)),
        doc="The nightly backup (BAK-1).",
    )
    repositories: RepositoriesConfig = setting(factory=RepositoriesConfig, doc="Where the two copies go.")
    retention: RetentionConfig = setting(factory=RetentionConfig, doc="What forget keeps (BAK-3).")
    hooks: HooksConfig = setting(factory=HooksConfig, doc="Commands around each backup.")
    verify: VerifyConfig = setting(factory=VerifyConfig, doc="Verification of both repositories (BAK-2).")
    drill: DrillConfig = setting(factory=DrillConfig, doc="Restore drills (BAK-5).")
    offline: OfflineConfig = setting(factory=OfflineConfig, doc="The monthly offline copy (BAK-1).")
    secondary_mode: Literal["mirror", "independent"] = setting(
        "mirror",
        "How the secondary gets each night's snapshot. mirror: when both repositories are local\n"
        "paths (a mounted disk) and `hostward backup init` made the secondary a mirror, the\n"
        "primary's new files are copied, each verified against its SHA-256 name (one backup's CPU);\n"
        "a night the primary fails, the secondary gets its own backup. independent: two restic\n"
        "backups every night (remote secondaries always get their own backup).",
    )
    coverage_window: Duration = setting(
        Duration(35 * 86400),
        "Runs newer than this (relative to the newest) must be in every repository; older\n"
        "ones are not judged (retention, a repository added later).",
        check=at_least(86400),
    )
    restic: str = setting("restic", "The restic program (a name on PATH or a full path).")
    cache_dir: str = setting("", "restic's cache directory; empty: <state_dir>/restic-cache.")
    lock_wait: Duration = setting(
        Duration(600),
        "How long a run waits for another process' live lock before failing.",
        check=at_least(0),
    )
    command_timeout: Duration = setting(
        Duration(300), "Timeout of short restic commands (snapshots, locks, unlock).", check=at_least(1)
    )
