"""The schema of policy files (the built-in library and users' own), validated strictly.

A policy file holds rules (the written clauses, once) and checks (data: what to look at, which
rules they prove, for which roles and platforms, with typed parameters). The same schema
machinery as the config reports every problem as `FILE:LINE: key.path: message`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from common.frozen import frozen
from common.schema import setting
from policies.conditions import LINUX_ONLY, WINDOWS_ONLY, Condition, kinds_in
from policies.parameters import ROLES as ROLES
from policies.parameters import InterfaceKind as InterfaceKind
from policies.parameters import Parameters as Parameters
from policies.parameters import Role as Role

Platform = Literal["linux", "windows"]
Severity = Literal["low", "medium", "high", "critical"]
EnforceAction = Literal["usb_lockdown", "password_max_age", "lock_leavers", "wireless_down"]

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


@frozen
class Text:
    """The same text in Chinese and English."""

    zh: str = setting(doc="Chinese text.")
    en: str = setting(doc="English text.")


@frozen
class RuleSpec:
    """A written rule (RULES.md): its id, clause, source and the document's own wording."""

    id: str = setting(
        doc="Stable id from RULES.md, e.g. USB-1.",
        check=lambda v: None if _RULE_ID.match(v) else "must look like USB-1",
    )
    clause: Text = setting(doc="The clause, in our own words, in Chinese and English.")
    source: str = setting(doc="Which document and section it comes from.")
    key_phrase: str = setting("", "The document's own Chinese wording, as people know it.")


@frozen
class ProbeSpec:
    """The probe a check runs, and the conditions when that probe is `conditions`."""

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


@frozen
class EnforcementSpec:
    """What `hostward enforce` can do about a failing check."""

    action: EnforceAction = setting(doc="usb_lockdown, password_max_age, lock_leavers or wireless_down.")
    description: Text | None = setting(None, "What the enforcement changes, for people.")


@frozen
class CheckSpec:
    """One check: what it proves (rules), how it is probed, where it applies, and how a failure is
    fixed or enforced."""

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


@frozen
class PolicyFile:
    """One policy file: its rules and checks."""

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
