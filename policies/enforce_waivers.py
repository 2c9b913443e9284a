"""Waivers and per-person exemptions at enforcement: an approved exception is never overridden.

The audit marks a covered failure waived (`engine.apply_waivers`, then
`exemptions.apply_exemptions`). Enforcement asks those same two functions, so "waived" means
the same thing in the report and at `hostward enforce`: a current waiver for this host, or a
person exemption while only exempted people are logged in now, and the check's remediation is
not applied. An expired waiver protects nothing; an offline root has nobody logged in, so a
person exemption does not hold there.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from collectors.system.runner import Runner
from policies.config import PersonExemption, Waiver
from policies.context import AuditInputs, Cache, ProbeContext, Target
from policies.engine import apply_waivers
from policies.exemptions import apply_exemptions
from policies.result import CheckResult, WaiverNote
from policies.schema import CheckSpec, Parameters

SESSIONS_TIMEOUT = 10.0


def covering_waiver(
    spec: CheckSpec,
    target: Target,
    runner: Runner,
    inputs: AuditInputs,
    params: Parameters,
    *,
    waivers: Sequence[Waiver],
    exemptions: Sequence[PersonExemption],
    now: datetime,
) -> WaiverNote | None:
    """The waiver that keeps enforcement off `spec` on this host now, else None."""
    today = now.date()
    failing = CheckResult(spec.id, "fail", spec.rules, spec.severity, {}, "")
    waived = apply_waivers(failing, waivers, target.hostname, today)
    if waived.waived:
        return waived.waiver
    if not any(spec.id in x.checks for x in exemptions):
        return None  # reading sessions (a command on Windows) only when an exemption may apply
    ctx = ProbeContext(target, runner, now, params, inputs, Cache(), time.monotonic() + SESSIONS_TIMEOUT)
    evidence = {"session_accounts": _sessions(ctx)}
    failing = CheckResult(spec.id, "fail", spec.rules, spec.severity, evidence, "")
    exempted = apply_exemptions(failing, exemptions, target.hostname, today)
    return exempted.waiver if exempted.waived else None


def _sessions(ctx: ProbeContext) -> list[str] | None:
    if ctx.target.platform == "windows":
        from policies.probes.windows import session_accounts as windows_sessions

        return windows_sessions(ctx)
    from policies.probes.linux_media import session_accounts

    return session_accounts(ctx)


def waiver_record(note: WaiverNote) -> dict[str, Any]:
    """The `waived` part of a change record (JSON): who approved it, why, until when, for whom."""
    return {"approver": note.approver, "reason": note.reason, "expires": note.expires, "person": note.person}


def waiver_comment(note: WaiverNote) -> str:
    """One line, en and zh: not enforced, by whose approval, until when."""
    who = f" for {note.person}" if note.person else ""
    who_zh = f"（{note.person}）" if note.person else ""
    return (
        f"waived{who} by {note.approver} until {note.expires}: not enforced"
        f" / 已豁免{who_zh}，批准人 {note.approver}，有效期至 {note.expires}：未整改"
    )
