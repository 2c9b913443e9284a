"""Register every secret the config names for redaction, before any job can touch it.

The secrets live in files (or, for restic, an environment variable) that lower floors read
when they need them (common/secrets.py, restic itself). Those floors cannot import
the agent's log redaction, so the agent reads the same files once at start and on each reload
and registers the values (`agent.logs.register_secret`): from then on a secret that slips into
a log line, an exception, a traceback or a job's error text (stored, then shown on /metrics
and the status page) comes out as `***`. A file that cannot be read is skipped here: the job
that needs it reports that.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from agent.config.schema import Config
from agent.logs import register_secret
from common.secrets import MAX_SECRET_BYTES


def secret_sources(config: Config) -> Iterator[tuple[str, str]]:
    """("file" | "env", path or variable name) of every secret the config names."""
    for device in config.devices:
        if device.snmp is not None:
            for path in (device.snmp.community_file, device.snmp.auth_key_file, device.snmp.priv_key_file):
                if path:
                    yield "file", path
        if device.ssh is not None and device.ssh.password_file:
            yield "file", device.ssh.password_file
        if device.nut is not None and device.nut.password_file:
            yield "file", device.nut.password_file
    if config.devices_traps.community_file:
        yield "file", config.devices_traps.community_file
    repos = config.backup.repositories
    for repo in (repos.primary, repos.secondary):
        if repo is None:
            continue
        if repo.password_file:
            yield "file", repo.password_file
        if repo.password_env:
            yield "env", repo.password_env


def register_config_secrets(config: Config) -> int:
    """Register the value of every readable secret the config names; returns how many."""
    count = 0
    for kind, where in secret_sources(config):
        if kind == "env":
            value = os.environ.get(where, "")
        else:
            try:
                with open(where, "rb") as fh:
                    value = fh.read(MAX_SECRET_BYTES).decode("utf-8", "replace")
            except OSError:
                continue
        # restic uses the whole file (without its final newline); the devices its first line.
        for candidate in {value.rstrip("\r\n"), value.strip(), *value.strip().splitlines()[:1]}:
            if candidate:
                register_secret(candidate)
                count += 1
    return count
