"""The probe registry: one explicit table of probe name -> implementation per platform.

No discovery by file or function name: a probe exists because it is listed here. The policy
library refers to probes by these names; the schema check rejects any other name.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.context import ProbeContext
from policies.probes import (
    backup_rules,
    clock,
    generic,
    linux_accounts,
    linux_media,
    linux_software,
    network,
    network_access,
    patches,
    windows,
    windows_av,
)
from policies.result import Finding, msg, not_applicable
from policies.schema import Platform

Probe = Callable[[ProbeContext], Finding]

PROBES: dict[str, dict[Platform, Probe]] = {
    "usb_storage_blocked": {"linux": linux_media.usb_storage_blocked, "windows": windows.usb_storage_blocked},
    "usb_media_scanned": {"linux": linux_media.usb_media_scanned, "windows": windows.usb_media_scanned},
    "av_installed_running": {
        "linux": linux_media.av_installed_running,
        "windows": windows_av.av_installed_running,
    },
    "av_signatures_current": {
        "linux": linux_media.av_signatures_current,
        "windows": windows_av.av_signatures_current,
    },
    "av_scan_recent": {"linux": linux_media.av_scan_recent, "windows": windows_av.av_scan_recent},
    "os_updated": {"linux": patches.linux_os_updated, "windows": patches.windows_os_updated},
    "security_updates_pending": {
        "linux": patches.linux_security_pending,
        "windows": patches.windows_security_pending,
    },
    "password_max_age": {"linux": linux_accounts.password_max_age, "windows": windows.password_max_age},
    "login_password_set": {"linux": linux_accounts.login_password_set, "windows": windows.login_password_set},
    "leavers_disabled": {"linux": linux_accounts.leavers_disabled, "windows": windows.leavers_disabled},
    "no_shared_accounts": {"linux": linux_accounts.no_shared_accounts, "windows": windows.no_shared_accounts},
    "after_hours_power": {"linux": clock.after_hours_power, "windows": clock.after_hours_power},
    "screen_lock": {"linux": linux_accounts.screen_lock, "windows": windows.screen_lock},
    "forbidden_software": {"linux": linux_software.forbidden_software, "windows": windows.forbidden_software},
    "listening_services": {"linux": linux_software.listening_services, "windows": windows.listening_services},
    "isolation": {"linux": network.isolation, "windows": network.isolation},
    "egress_blocked": {"linux": network.egress_blocked, "windows": network.egress_blocked},
    "unknown_devices": {"linux": network_access.unknown_devices, "windows": network_access.unknown_devices},
    "internet_access_by_class": {
        "linux": network_access.internet_access_by_class,
        "windows": network_access.internet_access_by_class,
    },
    "network_baseline": {"linux": network.network_baseline, "windows": network.network_baseline},
    "conditions": {"linux": generic.conditions, "windows": generic.conditions},  # officers' YAML checks
    "backup_retention": {"linux": backup_rules.backup_retention, "windows": backup_rules.backup_retention},
}


def _missing(platform: str) -> Probe:
    def probe(ctx: ProbeContext) -> Finding:
        return not_applicable(
            msg(f"not implemented on {platform}", f"尚未在 {platform} 上实现"), platform=platform
        )

    return probe


def probe_for(name: str, platform: Platform) -> Probe:
    """The implementation of probe `name` for `platform`. KeyError names the known probes."""
    try:
        table = PROBES[name]
    except KeyError:
        raise KeyError(f"unknown probe {name!r}; known: {', '.join(sorted(PROBES))}") from None
    return table.get(platform) or _missing(platform)
