"""The `audit:` config section: schedule, parameter overrides, waivers, inputs, enforcement."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from common.frozen import frozen
from common.schema import Duration, setting
from common.schema.common import Schedule
from common.schema.fields import between
from policies.parameters import ROLES, Parameters, Role

_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
_HOSTPORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):\d{1,5}$")


def _check_date(value: object) -> str | None:
    if isinstance(value, str) and _DATE.match(value):
        try:
            date.fromisoformat(value)
            return None
        except ValueError:
            pass
    return 'must be a quoted date "YYYY-MM-DD"'


def _check_targets(value: object) -> str | None:
    assert isinstance(value, tuple)
    bad = [v for v in value if not _HOSTPORT.match(v)]
    return f'not "HOST:PORT": {", ".join(bad)}' if bad else None


@frozen
class Waiver:
    """An approved exception to one check, with who approved it, why and until when."""

    check: str = setting(doc="The check id the waiver covers.")
    approver: str = setting(doc="Who approved it (name or role).")
    reason: str = setting(doc="Why.")
    expires: str = setting(doc='Last day it applies, "YYYY-MM-DD" (quoted).', check=_check_date)
    hosts: tuple[str, ...] = setting((), "Hosts it covers; empty: every host using this config.")
    person: str = setting("", "The named person it is for (e.g. a USB exemption), shown in reports.")


@frozen
class PersonExemption:
    """An approved exemption for a named person: checks waived while only their accounts are logged in."""

    person: str = setting(doc="The named person (e.g. a department manager), shown in reports.")
    accounts: tuple[str, ...] = setting(doc='Their login accounts: "zhangwei" or "DOMAIN\\zhangwei".')
    approver: str = setting(doc="Who approved it.")
    expires: str = setting(doc='Last day it applies, "YYYY-MM-DD" (quoted).', check=_check_date)
    reason: str = setting("", "Why.")
    hosts: tuple[str, ...] = setting((), "Hosts it covers; empty: every host using this config.")
    checks: tuple[str, ...] = setting(("usb.storage_blocked",), "Check ids it exempts (never USB-2 checks).")


@frozen
class ParameterOverride:
    """New parameter values for one check, for a role or a host."""

    check: str = setting(doc="The check id whose parameters change.")
    role: Role | None = setting(None, "Only for this role.")
    host: str = setting("", "Only for this host name.")
    parameters: Parameters = setting(factory=Parameters, doc="The values that replace the check's defaults.")


@frozen
class IsolationConfig:
    """What the network isolation probes (NET-1..4) try: addresses that must not or must be reached,
    the gateways and egress allowed, and their one timeout."""

    canaries: tuple[str, ...] = setting(
        (),
        'Internet "HOST:PORT" addresses an isolated host must NOT reach by TCP.',
        check=_check_targets,
        example='["223.5.5.5:443", "114.114.114.114:53"]',
    )
    dns_canaries: tuple[str, ...] = setting(
        (),
        'Public DNS servers "ADDRESS:PORT" an isolated host must NOT get an answer from.',
        check=_check_targets,
        example='["223.5.5.5:53"]',
    )
    private_targets: tuple[str, ...] = setting(
        (),
        'Private-network "HOST:PORT" addresses that MUST be reachable (e.g. the insurance centre).',
        check=_check_targets,
    )
    allowed_gateways: tuple[str, ...] = setting(
        (), "Gateways a default route may point to on isolated roles."
    )
    allowed_egress: tuple[str, ...] = setting(
        (), 'Servers: "HOST:PORT" update mirrors that may be reached.', check=_check_targets
    )
    timeout: Duration = setting(
        Duration(2), "One bounded timeout for all probes together.", check=between(0.1, 30)
    )


@frozen
class AccessClass:
    """A staff class and the destinations it must and must not reach (NET-7)."""

    name: str = setting(doc='Staff class, e.g. "A" (managers), "B" (department heads), "C" (staff).')
    allowed: tuple[str, ...] = setting(
        (),
        '"HOST:PORT" destinations this class MUST reach (its mail, insurers\' sites, IM).',
        check=_check_targets,
    )
    denied: tuple[str, ...] = setting(
        (), '"HOST:PORT" destinations this class must NOT reach.', check=_check_targets
    )


@frozen
class InternetAccessConfig:
    """Internet access by staff class (NET-7): the classes, each role's class, and this host's."""

    classes: tuple[AccessClass, ...] = setting((), "The staff classes and their probe destinations (NET-7).")
    class_by_role: dict[str, str] = setting(
        factory=dict, doc="Class of each role, e.g. {manager_pc: A, office_pc: C}.", example="{manager_pc: A}"
    )
    host_class: str = setting("", "This host's class; beats class_by_role (e.g. a department head's PC).")

    def class_for(self, role: str) -> AccessClass | None:
        name = self.host_class or self.class_by_role.get(role, "")
        return next((c for c in self.classes if c.name == name), None) if name else None


@frozen
class AuditConfig:
    """The `audit:` section: when the audit runs, which checks and parameters, waivers and exemptions,
    its inputs (leavers, assets, network probes), and what `hostward enforce` may change."""

    schedule: Schedule = setting(
        factory=lambda: Schedule(every=Duration(900), jitter=Duration(60), timeout=Duration(120)),
        doc="The compliance audit against the written rules.",
    )
    policy_dirs: tuple[str, ...] = setting(
        (), "Extra directories of policy files (*.yaml) added to the library."
    )
    disabled_checks: tuple[str, ...] = setting((), "Check ids not run on this host.")
    overrides: tuple[ParameterOverride, ...] = setting(
        (),
        "Parameter overrides per check, per role or host (host beats role beats the library).",
        example="- {check: av.signatures_current, role: server, parameters: {max_age_days: 7}}",
    )
    waivers: tuple[Waiver, ...] = setting(
        (),
        "Approved exceptions: a waived failure stays visible, marked waived, until it expires.",
        example=(
            '- check: usb.storage_blocked\n  approver: IT head\n  reason: scanner PC\n  expires: "2026-12-31"'
        ),
    )
    person_exemptions: tuple[PersonExemption, ...] = setting(
        (),
        "Exemptions for named persons: a failure is waived while only their accounts are logged in.",
        example=(
            "- person: 张伟 (财务部经理)\n  accounts: [zhangwei]\n"
            '  approver: 信息科王主任\n  expires: "2026-12-31"'
        ),
    )
    leavers_file: str = setting("", "CSV of staff who left: name,account,date_left (ACC-1).")
    isolation: IsolationConfig = setting(factory=IsolationConfig, doc="Network isolation probes (NET-1..4).")
    assets_file: str = setting("", "CSV asset register mac,name,ip: neighbours not in it fail NET-6.")
    internet_access: InternetAccessConfig = setting(
        factory=InternetAccessConfig, doc="Internet access by staff class (NET-7)."
    )
    enforce: tuple[str, ...] = setting(
        (), "Check ids `hostward enforce` may change (opt-in; nothing is changed otherwise)."
    )
    check_timeout: Duration = setting(Duration(10), "The whole audit's time limit.", check=between(1, 300))

    def problems(self) -> Iterator[tuple[str, str]]:
        for i, waiver in enumerate(self.waivers):
            if not waiver.approver.strip():
                yield f"waivers[{i}].approver", "a waiver needs an approver"
        names = {c.name for c in self.internet_access.classes}
        for role, name in self.internet_access.class_by_role.items():
            if role not in ROLES:
                yield f"internet_access.class_by_role.{role}", f"not a role; roles: {', '.join(ROLES)}"
            if name not in names:
                yield f"internet_access.class_by_role.{role}", f"class {name!r} is not defined in classes"
        if self.internet_access.host_class and self.internet_access.host_class not in names:
            yield "internet_access.host_class", "class is not defined in classes"
        for i, exemption in enumerate(self.person_exemptions):
            if not exemption.accounts:
                yield f"person_exemptions[{i}].accounts", "name at least one account"
            if not exemption.approver.strip():
                yield f"person_exemptions[{i}].approver", "an exemption needs an approver"
