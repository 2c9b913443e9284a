"""The schema of policy files (the built-in library and users' own), validated strictly.

A policy file holds rules (the written clauses, once) and checks (data: what to look at, which
rules they prove, for which roles and platforms, with typed parameters). The same schema
machinery as the config reports every problem as `FILE:LINE: key.path: message`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Literal

from common.schema import setting
from policies.conditions import LINUX_ONLY, WINDOWS_ONLY, Condition, kinds_in

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
Platform = Literal["linux", "windows"]
Severity = Literal["low", "medium", "high", "critical"]
EnforceAction = Literal["usb_lockdown", "password_max_age", "lock_leavers", "wireless_down"]
InterfaceKind = Literal["wireless", "wwan", "tether", "wired", "virtual"]

_CHECK_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_RULE_ID = re.compile(r"^[A-Z]+-\d+$")


def _check_id(value: object) -> str | None:
    ok = isinstance(value, str) and _CHECK_ID.match(value)
    return None if ok else "must be a dotted lower-case id such as usb.storage_blocked"


def _rule_ids(value: object) -> str | None:
    assert isinstance(value, tuple)
    if not value:
        return "name at least one rule id"
    bad = [v for v in value if not _RULE_ID.match(v)]
    return f"not rule ids: {', '.join(bad)}" if bad else None


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


@dataclass(frozen=True)
class Text:
    zh: str = setting(doc="Chinese text.")
    en: str = setting(doc="English text.")


@dataclass(frozen=True)
class RuleSpec:
    id: str = setting(
        doc="Stable id from RULES.md, e.g. USB-1.",
        check=lambda v: None if _RULE_ID.match(v) else "must look like USB-1",
    )
    clause: Text = setting(doc="The clause, in our own words, in Chinese and English.")
    source: str = setting(doc="Which document and section it comes from.")
    key_phrase: str = setting("", "The document's own Chinese wording, as people know it.")


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ProbeSpec:
    name: str = setting(doc="The probe (a function in policies/probes), e.g. usb_storage_blocked.")
    live_only: bool = setting(False, "Needs the running system; not_applicable when auditing a --root image.")
    all: tuple[Condition, ...] | None = setting(None, "Probe `conditions`: every one must hold.")
    any: tuple[Condition, ...] | None = setting(None, "Probe `conditions`: at least one must hold.")
    none: tuple[Condition, ...] | None = setting(None, "Probe `conditions`: none may hold.")

    def conditions(self) -> tuple[Condition, ...]:
        """The top-level combination as one tuple of conditions (each an all/any/none)."""
        return tuple(
            Condition(**{name: getattr(self, name)})
            for name in ("all", "any", "none")
            if getattr(self, name) is not None
        )

    def problems(self) -> Iterator[tuple[str, str]]:
        given = [n for n in ("all", "any", "none") if getattr(self, n) is not None]
        if self.name == "conditions" and not given:
            yield "name", "the conditions probe needs all, any and/or none"
        if self.name != "conditions" and given:
            yield given[0], "only the conditions probe takes conditions"
        for name in given:
            if not getattr(self, name):
                yield name, "list at least one condition"


@dataclass(frozen=True)
class EnforcementSpec:
    action: EnforceAction = setting(doc="usb_lockdown, password_max_age, lock_leavers or wireless_down.")
    description: Text | None = setting(None, "What the enforcement changes, for people.")


@dataclass(frozen=True)
class CheckSpec:
    id: str = setting(doc="Stable dotted id, e.g. usb.storage_blocked.", check=_check_id)
    title: Text = setting(doc="Title in Chinese and English.")
    rationale: str = setting(doc="Why the check exists, citing the rule.")
    rules: tuple[str, ...] = setting(doc="Rule ids it proves (from the rules catalogue).", check=_rule_ids)
    severity: Severity = setting(doc="low, medium, high or critical.")
    remediation: Text = setting(doc="How to fix a failure, in Chinese and English.")
    probe: ProbeSpec = setting(doc="The probe and how it runs.")
    roles: tuple[Role, ...] = setting((), "Roles it applies to; empty: every role.")
    platforms: tuple[Platform, ...] = setting(("linux", "windows"), "linux and/or windows.")
    parameters: Parameters = setting(factory=Parameters, doc="Defaults of the probe's parameters.")
    enforcement: EnforcementSpec | None = setting(None, "What `hostward enforce` can change.")

    def problems(self) -> Iterator[tuple[str, str]]:
        kinds = kinds_in(self.probe.conditions())
        if kinds & WINDOWS_ONLY and "linux" in self.platforms:
            yield (
                "platforms",
                f"{', '.join(sorted(kinds & WINDOWS_ONLY))} exist on Windows only: platforms: [windows]",
            )
        if kinds & LINUX_ONLY and "windows" in self.platforms:
            yield (
                "platforms",
                f"{', '.join(sorted(kinds & LINUX_ONLY))} exist on Linux only: platforms: [linux]",
            )


@dataclass(frozen=True)
class PolicyFile:
    version: int = setting(
        1, "Policy format version; only 1.", check=lambda v: None if v == 1 else "must be 1"
    )
    rules: tuple[RuleSpec, ...] = setting(
        (), "Written rules (the built-in catalogue defines all of RULES.md)."
    )
    checks: tuple[CheckSpec, ...] = setting((), "Checks.")

    def problems(self) -> Iterator[tuple[str, str]]:
        for i, check in enumerate(self.checks):
            if not check.platforms:
                yield f"checks[{i}].platforms", "name at least one platform"
