"""The roles a host can have and the parameters a check takes: what the agent's config (`audit:`)
names, apart from the policy files' schema (policies/schema.py) so that loading the config
does not load the condition language of the checks."""

from __future__ import annotations

import re
from dataclasses import fields, replace
from typing import Literal

from common.frozen import frozen
from common.schema import setting

Role = Literal[
    "office_pc", "manager_pc", "server", "insurance_terminal", "clinical_terminal", "isolated_store"
]
ROLES: tuple[Role, ...] = (
    "office_pc",
    "manager_pc",
    "server",
    "insurance_terminal",
    "clinical_terminal",
    "isolated_store",
)
InterfaceKind = Literal["wireless", "wwan", "tether", "wired", "virtual"]

_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def _hours(value: object) -> str | None:
    ok = value is None or (isinstance(value, str) and _HOURS.match(value))
    return None if ok else 'must be "HH:MM-HH:MM", e.g. "07:30-18:30"'


def _weekdays(value: object) -> str | None:
    ok = value is None or (isinstance(value, tuple) and all(1 <= d <= 7 for d in value))
    return None if ok else "must list days 1 (Monday) to 7 (Sunday)"


def _non_negative(value: object) -> str | None:
    return None if value is None or (isinstance(value, int) and value >= 0) else "must be 0 or more"


def _positive(value: object) -> str | None:
    return None if value is None or (isinstance(value, int) and value > 0) else "must be positive"


@frozen
class Parameters:
    """Every tunable a probe reads. All optional: a check sets defaults, config overrides them."""

    max_age_days: int | None = setting(None, "Oldest acceptable age in days.", check=_positive)
    max_policy_days: int | None = setting(
        None, "Largest acceptable maximum-age policy in days.", check=_positive
    )
    max_minutes: int | None = setting(None, "Largest acceptable idle time in minutes.", check=_positive)
    min_uid: int | None = setting(None, "Lowest UID of a person's account.")
    modules: tuple[str, ...] | None = setting(None, "Kernel modules that must be blocked.")
    exempt_roles: tuple[Role, ...] | None = setting(None, "Roles the check does not apply to.")
    deny: tuple[str, ...] | None = setting(None, "Names (globs, case-insensitive) not allowed.")
    allow: tuple[str, ...] | None = setting(None, "Names (globs) allowed; empty: no allow-list.")
    allowed_ports: tuple[int, ...] | None = setting(
        None, "TCP ports that may listen on non-loopback addresses."
    )
    forbidden_interfaces: tuple[InterfaceKind, ...] | None = setting(
        None, "Interface kinds that must not be present, up or down."
    )
    database_dir: str | None = setting(None, "Directory of the antivirus signature databases.")
    scan_logs: tuple[str, ...] | None = setting(None, "Log files that record scans.")
    av_packages: tuple[str, ...] | None = setting(None, "Packages that count as the antivirus.")
    av_processes: tuple[str, ...] | None = setting(None, "Processes that count as the antivirus running.")
    av_services: tuple[str, ...] | None = setting(
        None, "Windows service names (globs) that count as the antivirus where Security Center is absent."
    )
    windows_scan_logs: tuple[str, ...] | None = setting(
        None, "Windows files (wildcards) a third-party antivirus writes after each scan (AV-3)."
    )
    max_pending_security: int | None = setting(
        None, "Most security updates that may be pending.", check=_non_negative
    )
    working_hours: str | None = setting(None, 'Local working hours, "HH:MM-HH:MM".', check=_hours)
    working_days: tuple[int, ...] | None = setting(None, "Working days, 1 (Monday) to 7.", check=_weekdays)

    def merged(self, other: Parameters) -> Parameters:
        """`self` with every value `other` sets (not None) replaced."""
        changes = {
            f.name: getattr(other, f.name) for f in fields(other) if getattr(other, f.name) is not None
        }
        return replace(self, **changes)
