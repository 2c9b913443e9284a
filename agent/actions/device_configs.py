"""The device config-backup job: fetch each SSH device's running configuration, store a new
version when it changed (with a diff), and record kind "device_configs".

Devices are handled one after another (SSH sessions to network gear are slow and few); one
failing device never stops the others. netmiko/paramiko load only if a device has `ssh:`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from agent.actions.base import JobContext, JobOutcome
from agent.config.schema import Config
from agent.records.devices import ConfigBackup, DeviceConfigsRecord
from agent.state import State
from collectors.devices import config_store
from collectors.devices.vendors import normalize
from common.errors import HostwardError

log = logging.getLogger(__name__)
RECORD_KIND = DeviceConfigsRecord.KIND
STORE_DIR = "device-configs"


def backup_configs(config: Config, state: State | None, state_dir: Path) -> list[ConfigBackup]:
    """Back up every device with `ssh:`; store the record if `state` is given."""
    devices = [d for d in config.devices if d.ssh is not None]
    if not devices:
        return []
    from collectors.devices.ssh import HostKeyMismatch, fetch_config  # heavy: netmiko

    root = state_dir / STORE_DIR
    outcomes = []
    for device in devices:
        assert device.ssh is not None
        try:
            text = fetch_config(device, state_dir / "tmp")
            parsed = normalize(device.ssh.platform, text, device.ssh.command)
            if not parsed.text.strip():
                raise HostwardError("the device returned an empty configuration")
            stored = config_store.store(root, device.name, parsed.text)
        except HostKeyMismatch as exc:
            log.error("config backup of %s refused: %s", device.name, exc.reason)
            outcomes.append(_failed(root, device.name, exc.reason, mismatch=True))
            continue
        except (HostwardError, OSError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            log.warning("config backup of %s failed: %s", device.name, reason)
            outcomes.append(_failed(root, device.name, reason))
            continue
        if stored.changed:
            log.warning("configuration of %s changed (version %d)", device.name, stored.version)
        outcomes.append(
            ConfigBackup(
                device.name,
                True,
                stored.changed,
                "",
                stored.version,
                stored.versions,
                stored.changed_at,
                parsed.hostname,
                stored.diff.count("\n"),
                diff_file=str(stored.path.with_suffix(".diff")) if stored.changed else "",
            )
        )
    if state is not None:
        record = DeviceConfigsRecord(tuple(outcomes))
        state.put_record(record, taken=time.time())
    return outcomes


def config_backup_job(ctx: JobContext) -> JobOutcome:
    outcomes = backup_configs(ctx.config, ctx.state, ctx.state_dir)
    failed = [o for o in outcomes if not o.ok]
    if not failed:
        return JobOutcome(True)
    error = "; ".join(f"{o.name}: {o.reason}" for o in failed)
    return JobOutcome(False, error, partial=len(failed) < len(outcomes))


def _failed(root: Path, name: str, reason: str, mismatch: bool = False) -> ConfigBackup:
    kept = config_store.versions(root, name)
    return ConfigBackup(
        name, False, False, reason, kept[-1] if kept else 0, len(kept), host_key_mismatch=mismatch
    )
