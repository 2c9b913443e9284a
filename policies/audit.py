"""One audit from the `audit:` config: load the library, gather inputs, run the engine.

The CLI (`hostward audit`) and the scheduled job call this same function.
"""

from __future__ import annotations

import difflib
import socket
import sys
from collections.abc import Iterable, Mapping
from dataclasses import field, replace
from datetime import datetime
from typing import Any

from collectors.system.runner import Runner, SubprocessRunner
from common.frozen import frozen
from common.schema import Problem
from policies.assets import AssetsError, read_assets
from policies.config import AuditConfig
from policies.context import AuditInputs, Target
from policies.engine import AuditReport, run_audit
from policies.leavers import LeaversError, read_leavers
from policies.library import Library, PolicyStore
from policies.result import CheckResult
from policies.schema import Platform, Role

POLICY_CHECK = "policy.files_valid"  # the result standing for rejected policy files


@frozen
class AuditRun:
    """One audit: its report, the user policy files rejected, and the asked-for check ids that do not
    exist (with the ids nearest to each)."""

    report: AuditReport
    policy_problems: list[Problem]  # user policy files rejected (the rest stayed in force)
    unknown_checks: dict[str, list[str]] = field(default_factory=dict)  # --check id -> near ids


def policy_error(problems: list[Problem]) -> CheckResult:
    """The `error` result a rejected policy file becomes: the officer's checks in it did not run,
    so the audit cannot be green. Names every FILE:LINE."""
    files = sorted({p.file for p in problems})
    where = "; ".join(str(p) for p in problems[:10])
    more = f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""
    return CheckResult(
        check=POLICY_CHECK,
        status="error",
        rules=(),
        severity="high",
        evidence={"files": files, "problems": [str(p) for p in problems]},
        reason=f"policy file rejected, its checks did not run: {where}{more}",
        reason_zh=f"策略文件无效，其中的检查未运行：{where}{more}",
        title_zh="策略文件有效",
        title_en="Policy files are valid",
    )


def unknown_checks(library: Library, only: Iterable[str] | None) -> dict[str, list[str]]:
    """Each requested check id the library does not hold, with up to three near matches."""
    ids = [c.id for c in library.checks]
    return {
        wanted: difflib.get_close_matches(wanted, ids, n=3, cutoff=0.5)
        for wanted in (only or ())
        if wanted not in ids
    }


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
    backup_retention: Mapping[str, Any] | None = None,
) -> AuditRun:
    """Audit this host (or an offline `root`, whose live-only checks become not_applicable)."""
    store = store or PolicyStore(config.policy_dirs)
    only = tuple(only) if only is not None else None
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
        replace(inputs_from(config, baseline), backup_retention=backup_retention),
        overrides=config.overrides,
        waivers=config.waivers,
        exemptions=config.person_exemptions,
        disabled=config.disabled_checks,
        only=only,
        now=now,
        timeout=float(config.check_timeout),
        set_aside=set_aside,
    )
    if problems:  # always shown, whatever `only` asks for: the asked-for check may be in it
        report = AuditReport(report.host, [*report.results, policy_error(problems)])
    return AuditRun(report, problems, unknown_checks(library, only))
