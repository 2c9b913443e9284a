"""The result model: what a check found, with evidence, and whether a waiver covers it.

A result's `status` is one of four closed states. "Could not determine" (permission denied, a
tool missing, an unreadable file) is `error`, never `pass`. A waived failure stays a failure,
with `waived=True` and who approved it until when, so it remains visible in every report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "error", "not_applicable"]
Severity = Literal["low", "medium", "high", "critical"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "error", "not_applicable")


@dataclass(frozen=True)
class Finding:
    """What a probe returns: a status, a one-line reason and the evidence it read."""

    status: Status
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)


def passed(reason: str, **evidence: Any) -> Finding:
    return Finding("pass", reason, evidence)


def failed(reason: str, **evidence: Any) -> Finding:
    return Finding("fail", reason, evidence)


def errored(reason: str, **evidence: Any) -> Finding:
    return Finding("error", reason, evidence)


def not_applicable(reason: str, **evidence: Any) -> Finding:
    return Finding("not_applicable", reason, evidence)


@dataclass(frozen=True)
class WaiverNote:
    approver: str
    reason: str
    expires: str  # YYYY-MM-DD
    person: str = ""


@dataclass(frozen=True)
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

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "status": self.status,
            "rules": list(self.rules),
            "severity": self.severity,
            "evidence": dict(self.evidence),
            "reason": self.reason,
            "title": {"zh": self.title_zh, "en": self.title_en},
            "waived": self.waived,
            "duration_seconds": round(self.duration_seconds, 4),
        }
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
        )


def exit_code(results: list[CheckResult]) -> int:
    """0 all pass/n.a. (or waived), 1 any unwaived fail, 2 any error and no fail."""
    if any(r.status == "fail" and not r.waived for r in results):
        return 1
    if any(r.status == "error" for r in results):
        return 2
    return 0
