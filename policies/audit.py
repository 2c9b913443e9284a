"""One audit from the `audit:` config: load the library, gather inputs, run the engine.

The CLI (`hostward audit`) and the scheduled job call this same function.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from collectors.schema import Problem
from collectors.system.runner import Runner, SubprocessRunner
from policies.assets import AssetsError, read_assets
from policies.config import AuditConfig
from policies.context import AuditInputs, Target
from policies.engine import AuditReport, run_audit
from policies.leavers import LeaversError, read_leavers
from policies.library import PolicyStore
from policies.schema import Platform, Role


@dataclass(frozen=True)
class AuditRun:
    report: AuditReport
    policy_problems: list[Problem]  # user policy files rejected (the rest stayed in force)


def this_platform() -> Platform:
    return "windows" if sys.platform == "win32" else "linux"


def inputs_from(config: AuditConfig, baseline: Mapping[str, Any] | None) -> AuditInputs:
    inputs = AuditInputs(
        isolation=config.isolation, network_baseline=baseline, internet_access=config.internet_access
    )
    if config.leavers_file:
        try:
            leavers = read_leavers(config.leavers_file)
            inputs = replace(inputs, leavers=leavers, leavers_source=config.leavers_file)
        except LeaversError as exc:
            inputs = replace(inputs, leavers=(), leavers_source=config.leavers_file, leavers_error=str(exc))
    if config.assets_file:
        try:
            assets = read_assets(config.assets_file)
            inputs = replace(inputs, assets=assets, assets_source=config.assets_file)
        except AssetsError as exc:
            inputs = replace(inputs, assets={}, assets_source=config.assets_file, assets_error=str(exc))
    return inputs


def run(
    config: AuditConfig,
    role: Role,
    *,
    hostname: str = "",
    root: str = "/",
    runner: Runner | None = None,
    baseline: Mapping[str, Any] | None = None,
    store: PolicyStore | None = None,
    only: Iterable[str] | None = None,
    now: datetime | None = None,
    platform: Platform | None = None,
    set_aside: Mapping[str, str] | None = None,
) -> AuditRun:
    """Audit this host (or an offline `root`, whose live-only checks become not_applicable)."""
    store = store or PolicyStore(config.policy_dirs)
    library, problems = store.load()
    target = Target(
        hostname=hostname or socket.gethostname(),
        role=role,
        platform=platform or this_platform(),
        root=root,
        live=root in ("/", ""),
    )
    report = run_audit(
        library,
        target,
        runner or SubprocessRunner(),
        inputs_from(config, baseline),
        overrides=config.overrides,
        waivers=config.waivers,
        exemptions=config.person_exemptions,
        disabled=config.disabled_checks,
        only=only,
        now=now,
        timeout=float(config.check_timeout),
        set_aside=set_aside,
    )
    return AuditRun(report, problems)
