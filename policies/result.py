"""The result model: what a check found, with evidence, and whether a waiver covers it.

A result's `status` is one of four closed states. "Could not determine" (permission denied, a
tool missing, an unreadable file) is `error`, never `pass`. A waived failure stays a failure,
with `waived=True` and who approved it until when, so it remains visible in every report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any, Literal

from common.frozen import frozen

Status = Literal["pass", "fail", "error", "not_applicable"]
Lang = Literal["zh", "en"]
Severity = Literal["low", "medium", "high", "critical"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "error", "not_applicable")
# Why the watchdog stopped a check (policies/watchdog.py): at the audit's time limit, at the
# memory cap, or not run at all while it is set aside (agent/watchdog); "" when it ran to its end.
Stopped = Literal["", "timeout", "memory", "set_aside"]
STOPPED: tuple[Stopped, ...] = ("", "timeout", "memory", "set_aside")
# The evidence line repeating the mark for people; read back only from results stored before
# `stopped` was a field.
STOPPED_EVIDENCE = "watchdog"


@frozen
class Msg:
    """A reason in both languages. Probes build one per problem; `joined` makes the sentence."""

    en: str
    zh: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else self.en


Reason = str | Msg  # a plain str is English only (users' older code); zh then falls back to it


def msg(en: str, zh: str) -> Msg:
    return Msg(en, zh)


def joined(parts: Sequence[Reason]) -> Msg:
    """Several problems as one reason: "a; b" in English, "a；b" in Chinese."""
    items = [p if isinstance(p, Msg) else Msg(p, p) for p in parts]
    return Msg("; ".join(m.en for m in items), "；".join(m.zh for m in items))


@frozen
class Finding:
    """What a probe returns: a status, a one-line reason (en, and zh) and the evidence it read."""

    status: Status
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    reason_zh: str = ""
    stopped: Stopped = ""


def finding(status: Status, reason: Reason, evidence: Mapping[str, Any]) -> Finding:
    if isinstance(reason, Msg):
        return Finding(status, reason.en, evidence, reason.zh)
    return Finding(status, reason, evidence)


def passed(reason: Reason, **evidence: Any) -> Finding:
    return finding("pass", reason, evidence)


def failed(reason: Reason, **evidence: Any) -> Finding:
    return finding("fail", reason, evidence)


def errored(reason: Reason, **evidence: Any) -> Finding:
    return finding("error", reason, evidence)


def not_applicable(reason: Reason, **evidence: Any) -> Finding:
    return finding("not_applicable", reason, evidence)


@frozen
class WaiverNote:
    """The waiver that covered a failing check: who approved it, why, until when, and for whom."""

    approver: str
    reason: str
    expires: str  # YYYY-MM-DD
    person: str = ""


@frozen
class CheckResult:
    """One check's verdict on one host. `evidence` holds JSON values only."""

    check: str
    status: Status
    rules: tuple[str, ...]
    severity: Severity
    evidence: Mapping[str, Any]
    reason: str
    title_zh: str = ""
    title_en: str = ""
    waived: bool = False
    waiver: WaiverNote | None = None
    duration_seconds: float = 0.0
    reason_zh: str = ""  # the reason in Chinese; empty: only the English `reason` exists
    stopped: Stopped = ""  # the watchdog stopped it (or did not run it): see Stopped

    def reason_in(self, lang: str) -> str:
        """The reason in `lang` (zh falls back to en where a probe gave no Chinese)."""
        return self.reason_zh if lang == "zh" and self.reason_zh else self.reason

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "status": self.status,
            "rules": list(self.rules),
            "severity": self.severity,
            "evidence": dict(self.evidence),
            "reason": self.reason,
            "reason_zh": self.reason_zh,
            "title": {"zh": self.title_zh, "en": self.title_en},
            "waived": self.waived,
            "duration_seconds": round(self.duration_seconds, 4),
        }
        if self.stopped:
            out["stopped"] = self.stopped
        if self.waiver is not None:
            out["waiver"] = {
                "approver": self.waiver.approver,
                "reason": self.waiver.reason,
                "expires": self.waiver.expires,
                "person": self.waiver.person,
            }
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        waiver = data.get("waiver")
        title = data.get("title") or {}
        return cls(
            check=str(data["check"]),
            status=data["status"],
            rules=tuple(data.get("rules", ())),
            severity=data.get("severity", "medium"),
            evidence=data.get("evidence", {}),
            reason=str(data.get("reason", "")),
            title_zh=str(title.get("zh", "")),
            title_en=str(title.get("en", "")),
            waived=bool(data.get("waived", False)),
            waiver=WaiverNote(**waiver) if isinstance(waiver, dict) else None,
            duration_seconds=float(data.get("duration_seconds", 0.0)),
            reason_zh=str(data.get("reason_zh", "")),
            stopped=_stopped(data),
        )


def _stopped(data: Mapping[str, Any]) -> Stopped:
    """The watchdog's mark; results stored before it was a field carry it as evidence."""
    evidence = data.get("evidence")
    old = evidence.get(STOPPED_EVIDENCE, "") if isinstance(evidence, Mapping) else ""
    value = data.get("stopped", old)
    for known in STOPPED:
        if value == known:
            return known
    raise ValueError(f"stopped: not one of {', '.join(STOPPED[1:])}: {value!r}")


NaClass = Literal["platform", "role", "offline_root", "not_configured"]
NA_CLASSES: tuple[NaClass, ...] = ("role", "not_configured", "offline_root")  # exported on /metrics


def na_class(result: CheckResult) -> NaClass | None:
    """Why a not_applicable result does not apply (None for other statuses), from the evidence
    the engine and the probes attach: `platform` (never meant for this OS; not exported),
    `role` (role not covered or exempt), `root` (needs the running system; an offline root),
    anything else: a setting the check needs is not configured (leavers list, asset register,
    internet-access class, network baseline)."""
    if result.status != "not_applicable":
        return None
    if "platform" in result.evidence:
        return "platform"
    if "role" in result.evidence:
        return "role"
    if "root" in result.evidence:
        return "offline_root"
    return "not_configured"


def exit_code(results: list[CheckResult]) -> int:
    """0 all pass/n.a. (or waived), 1 any unwaived fail, 2 any error and no fail."""
    if any(r.status == "fail" and not r.waived for r in results):
        return 1
    if any(r.status == "error" for r in results):
        return 2
    return 0
