"""The `audit` job: evaluate the policy library, store the result (State record "audit").

It also keeps two pieces of state the rules need: the registered network baseline (NET-5, taken
on the first audit) and the history of USB storage devices seen, with first and last seen (USB-3).
Both are updated in one transaction each (agent/records/key_updates.py): the CLI, the job in a
worker, the usb_watch job and the daemon's USB listener lose none of each other's changes.
The CLI (`hostward audit`) calls `perform_audit` too, so both are the same code.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, field
from pathlib import Path
from typing import Any

from agent.actions.base import JobContext, JobOutcome
from agent.config.schema import Config
from agent.journal import Journal, JournalError
from agent.records.audit import STATUSES, AuditRecord, AuditSummary, UsbSeen
from agent.records.key_updates import USB_KEY as USB_KEY  # where it always was
from agent.records.key_updates import FirstValue, SetValue, merge_usb_devices
from agent.state import State
from agent.watchdog import SetAsides, note_audit
from collectors.system.linux import usb
from collectors.system.runner import Runner, SubprocessRunner
from common.errors import HostwardError
from common.frozen import frozen
from policies import audit as policy_audit
from policies.engine import AuditReport
from policies.library import PolicyStore
from policies.result import CheckResult
from policies.schema import Role

RECORD_KIND = AuditRecord.KIND
BASELINE_KEY = "audit.network_baseline"
BASELINE_CHECK = "net.settings_unchanged"
log = logging.getLogger(__name__)
_STORE: dict[tuple[str, ...], PolicyStore] = {}  # the daemon keeps last good policy files per dir list


@frozen
class AuditOutcome:
    """One audit: its report, the user policy files rejected, and the asked-for check ids that do not
    exist (with the ids nearest to each)."""

    report: AuditReport
    problems: list[str]  # rejected user policy files, as FILE:LINE: messages
    unknown_checks: dict[str, list[str]] = field(default_factory=dict)  # asked-for id -> near ids


def store_for(dirs: tuple[str, ...]) -> PolicyStore:
    if dirs not in _STORE:
        _STORE[dirs] = PolicyStore(dirs)
    return _STORE[dirs]


def perform_audit(
    config: Config,
    state: State | None,
    *,
    role: Role | None = None,
    root: str = "/",
    runner: Runner | None = None,
    only: Iterable[str] | None = None,
    watch: bool = False,
) -> AuditOutcome:
    """Run the audit; with a state and the live host in its configured role, remember baselines.
    `watch` (the scheduled job): checks the watchdog set aside are not run, and checks stopped
    at a limit this time are set aside (agent/watchdog)."""
    baseline = state.get(BASELINE_KEY) if state is not None else None
    checks = SetAsides(state, "check", config.limits) if watch and state is not None else None
    run = policy_audit.run(
        config.audit,
        role or config.host.role,
        hostname=config.host.name,
        root=root,
        runner=runner or SubprocessRunner(memory_limit=config.limits.check_memory_max_bytes),
        baseline=baseline,
        store=store_for(config.audit.policy_dirs),
        only=only,
        set_aside=checks.reasons() if checks is not None else None,
        backup_retention=retention_input(config),
    )
    report = run.report
    if checks is not None:
        note_audit(checks, report.results)
    if state is not None and report.host["live"] and report.host["role"] == config.host.role:
        remember(state, report)
    return AuditOutcome(report, [str(p) for p in run.policy_problems], run.unknown_checks)


def retention_input(config: Config) -> dict[str, object] | None:
    """backup.retention for the BAK-3 check; None when this host backs nothing up."""
    if not config.backup.sources:
        return None
    keep = config.backup.retention
    return {
        "keep_within": keep.keep_within,
        "keep_daily": keep.keep_daily,
        "keep_weekly": keep.keep_weekly,
        "keep_monthly": keep.keep_monthly,
        "keep_yearly": keep.keep_yearly,
    }


def remember(state: State, report: AuditReport) -> None:
    """Register the network baseline on first sight; merge USB storage devices seen."""
    now = time.time()
    if report.host["platform"] == "linux":
        try:  # USB-3: every storage device seen is recorded, whatever the role
            devices = [asdict(d) for d in usb.read_usb_storage_devices("/")]
        except HostwardError as exc:
            log.warning("USB devices: %s", exc)
        else:
            merge_usb_devices(state, devices, now)
    for result in report.results:
        if result.check == BASELINE_CHECK and state.get(BASELINE_KEY) is None:
            observed = result.evidence.get("observed")
            if isinstance(observed, dict):  # the first audit to get here registers it
                state.update(FirstValue(BASELINE_KEY, observed))
        seen = result.evidence.get("usb_storage_devices")
        if isinstance(seen, list):
            merge_usb_devices(state, seen, now)


def accept_network_baseline(config: Config, state: State, state_dir: Path) -> dict[str, Any]:
    """Register the current network settings as the NET-5 baseline (after an approved change);
    the old and new baselines go to the journal. Returns {"before": ..., "after": ...}."""
    outcome = perform_audit(config, None, only=[BASELINE_CHECK])
    (result,) = outcome.report.results
    after = result.evidence.get("observed")
    if not isinstance(after, dict):
        raise HostwardError(f"network settings could not be read: {result.reason}")
    before, _ = state.update(SetValue(BASELINE_KEY, after))  # the baseline it replaced, exactly
    change = {"before": before, "after": after}
    Journal(state_dir).append("audit.network_baseline", change)
    return change


def summary(results: list[CheckResult]) -> dict[str, int]:
    counts: Counter[str] = Counter(r.status for r in results)
    counts["waived"] = sum(1 for r in results if r.waived)
    return {k: counts.get(k, 0) for k in ("pass", "fail", "error", "not_applicable", "waived")}


def audit_record(outcome: AuditOutcome, state: State | None = None) -> AuditRecord:
    """The record of a whole audit (with the USB storage devices seen, from `state`)."""
    seen: list[UsbSeen] = []
    if state is not None:
        for d in sorted((state.get(USB_KEY) or {}).values(), key=lambda d: -float(d.get("last_seen", 0))):
            seen.append(UsbSeen(str(d.get("vendor", "")), str(d.get("product", "")), str(d.get("serial", "")),
                                _num(d.get("first_seen")), _num(d.get("last_seen"))))  # fmt: skip
    counts = summary(outcome.report.results)
    return AuditRecord(
        host=dict(outcome.report.host),
        results=tuple(outcome.report.results),
        summary=AuditSummary(*(counts[s] for s in STATUSES)),
        policy_problems=tuple(str(p) for p in outcome.problems),
        usb_devices_seen=tuple(seen),
    )


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def record_audit(state: State, state_dir: Path, outcome: AuditOutcome) -> AuditRecord:
    """Store the record of a whole audit and journal its summary (the job and `hostward audit`)."""
    record = audit_record(outcome, state)
    state.put_record(record)
    failing = [r.check for r in outcome.report.results if r.status == "fail" and not r.waived]
    try:
        Journal(state_dir).append("audit.run", {"summary": record.summary.to_json(), "failing": failing})
    except JournalError as exc:  # a side channel never fails the main job
        log.warning("audit: %s", exc)
    return record


def audit_job(ctx: JobContext) -> JobOutcome:
    """Audit, store the record, journal a one-line summary. Check failures are findings, not job
    failures; checks that could not be determined make the run partial."""
    outcome = perform_audit(ctx.config, ctx.state, watch=True)
    record_audit(ctx.state, ctx.state_dir, outcome)
    for problem in outcome.problems:
        ctx.log.warning("policy file rejected: %s", problem)
    errors = [r.check for r in outcome.report.results if r.status == "error"]
    if errors or outcome.problems:
        what = f"could not determine: {', '.join(errors)}" if errors else "a policy file was rejected"
        return JobOutcome(success=True, error=what, partial=True)
    return JobOutcome(success=True)
