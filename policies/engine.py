"""The engine: pick the checks that apply, run their probes concurrently, apply waivers.

Small on purpose: the checks are data (policies/library), the probes are plain functions
(policies/probes). A probe that raises becomes `error` with the reason, never `pass`; a probe
still running at the audit's deadline becomes `error` too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from collectors.system.evidence import NoEvidence
from collectors.system.runner import Runner
from collectors.system.windows.registry import Registry
from common.errors import HostwardError
from common.frozen import frozen
from policies.config import ParameterOverride, PersonExemption, Waiver
from policies.context import AuditInputs, Cache, ProbeContext, Target
from policies.exemptions import apply_exemptions
from policies.library import Library
from policies.result import CheckResult, Finding, WaiverNote, errored, msg, not_applicable
from policies.schema import CheckSpec, Parameters
from policies.watchdog import WatchedRunner, annotate, set_aside_finding, timed_out

log = logging.getLogger(__name__)
MAX_WORKERS = 8


@frozen
class AuditReport:
    """The audit's target (name, role, platform, root, live, time) and every check's result."""

    host: dict[str, Any]
    results: list[CheckResult]

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "results": [r.to_json() for r in self.results]}


def parameters_for(spec: CheckSpec, target: Target, overrides: Sequence[ParameterOverride]) -> Parameters:
    """Library defaults, then role overrides, then host overrides (later wins)."""
    params = spec.parameters
    for o in overrides:
        if o.check == spec.id and o.role == target.role and not o.host:
            params = params.merged(o.parameters)
    for o in overrides:
        if o.check == spec.id and o.host and o.host == target.hostname and o.role in (None, target.role):
            params = params.merged(o.parameters)
    return params


def applicability(spec: CheckSpec, target: Target, params: Parameters) -> Finding | None:
    """A not_applicable finding when the check does not apply here, else None."""
    if target.platform not in spec.platforms:
        return not_applicable(
            msg(f"not a check for {target.platform}", f"不适用于 {target.platform}"), platform=target.platform
        )
    if spec.roles and target.role not in spec.roles:
        return not_applicable(
            msg(f"role {target.role} is not covered", f"角色 {target.role} 不在检查范围内"),
            role=target.role,
            roles=list(spec.roles),
        )
    if params.exempt_roles and target.role in params.exempt_roles:
        return not_applicable(
            msg(f"role {target.role} is exempt", f"角色 {target.role} 豁免"), role=target.role
        )
    if spec.probe.live_only and not target.live:
        return not_applicable(
            msg("needs the running system; auditing an offline root", "需要运行中的系统；当前为离线审计"),
            root=target.root,
        )
    return None


def apply_waivers(result: CheckResult, waivers: Iterable[Waiver], hostname: str, today: date) -> CheckResult:
    """Mark a failure waived by a current waiver for this host; an expired one only leaves a note."""
    if result.status != "fail":
        return result
    for waiver in waivers:
        if waiver.check != result.check or (waiver.hosts and hostname not in waiver.hosts):
            continue
        note = WaiverNote(waiver.approver, waiver.reason, waiver.expires, waiver.person)
        if date.fromisoformat(waiver.expires) >= today:
            return replace(result, waived=True, waiver=note)
        evidence = {**result.evidence, "expired_waiver": {"approver": note.approver, "expires": note.expires}}
        return replace(result, evidence=evidence)
    return result


def _run_probe(spec: CheckSpec, ctx: ProbeContext) -> tuple[Finding, float]:
    from policies.probes import probe_for

    started = time.monotonic()
    try:
        finding = probe_for(spec.probe.name, ctx.target.platform)(ctx)
    except NoEvidence as exc:  # the reader read nothing: say why in both languages
        finding = errored(msg(f"could not determine: {exc.en}", f"无法判定：{exc.zh}"), error=str(exc))
    except HostwardError as exc:
        finding = errored(msg(f"could not determine: {exc}", f"无法判定：{exc}"), error=str(exc))
    except Exception as exc:  # a probe bug must show as an error, never as a pass
        log.exception("probe %s failed", spec.probe.name)
        finding = errored(
            msg(f"probe failed: {type(exc).__name__}: {exc}", f"检查程序出错：{type(exc).__name__}: {exc}"),
            error=str(exc),
        )
    return annotate(finding, ctx.runner), time.monotonic() - started


def run_audit(
    library: Library,
    target: Target,
    runner: Runner,
    inputs: AuditInputs | None = None,
    *,
    overrides: Sequence[ParameterOverride] = (),
    waivers: Sequence[Waiver] = (),
    exemptions: Sequence[PersonExemption] = (),
    disabled: Iterable[str] = (),
    only: Iterable[str] | None = None,
    now: datetime | None = None,
    timeout: float = 10.0,
    set_aside: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> AuditReport:
    """Evaluate every check of `library` on `target`; results come back in library order.
    Checks in `set_aside` (id -> why, from the watchdog) are not run: they report `error`.
    `registry`: where Windows checks read the registry (default: the local one)."""
    now = now or datetime.now(UTC)
    inputs = inputs or AuditInputs()
    skip = set(disabled)
    wanted = set(only) if only is not None else None
    specs = [s for s in library.checks if s.id not in skip and (wanted is None or s.id in wanted)]
    deadline = time.monotonic() + timeout
    cache = Cache()
    findings: dict[str, tuple[Finding, float]] = {}
    futures: dict[str, Future[tuple[Finding, float]]] = {}
    pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="audit")
    try:
        for spec in specs:
            params = parameters_for(spec, target, overrides)
            skipped = applicability(spec, target, params)
            if skipped is not None:
                findings[spec.id] = (skipped, 0.0)
                continue
            if set_aside and spec.id in set_aside:
                findings[spec.id] = (set_aside_finding(set_aside[spec.id]), 0.0)
                continue
            watched = WatchedRunner(runner, deadline)
            ctx = ProbeContext(
                target, watched, now, params, inputs, cache, deadline, registry=registry, probe=spec.probe
            )
            futures[spec.id] = pool.submit(_run_probe, spec, ctx)
        wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
        for check_id, future in futures.items():
            if future.done():
                findings[check_id] = future.result()
            else:
                future.cancel()
                findings[check_id] = (timed_out(timeout), timeout)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    results = []
    for spec in specs:
        finding, duration = findings[spec.id]
        result = CheckResult(
            check=spec.id,
            status=finding.status,
            rules=spec.rules,
            severity=spec.severity,
            evidence=dict(finding.evidence),
            reason=finding.reason,
            reason_zh=finding.reason_zh,
            title_zh=spec.title.zh,
            title_en=spec.title.en,
            duration_seconds=duration,
            stopped=finding.stopped,
        )
        result = apply_waivers(result, waivers, target.hostname, now.date())
        results.append(apply_exemptions(result, exemptions, target.hostname, now.date()))
    host = {
        "name": target.hostname,
        "role": target.role,
        "platform": target.platform,
        "root": target.root,
        "live": target.live,
        "time": now.isoformat(timespec="seconds"),
    }
    return AuditReport(host, results)
