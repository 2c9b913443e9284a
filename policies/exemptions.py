"""Per-person exemptions (USB-1: "department managers may have USB ports open").

An exemption names a person, their accounts, an approver and an expiry. A failed check it
covers is marked waived on a host only while every account with a session there belongs to a
currently exempted person: when someone else logs in, or the exemption expires, the failure
counts again. USB-2 (hospital intranet PCs) allows no exception, so it is never exempted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from policies.config import PersonExemption
from policies.result import CheckResult, WaiverNote

NO_EXCEPTIONS = frozenset({"USB-2"})


def account_matches(session: str, accounts: Sequence[str]) -> bool:
    """ "PC-01\\zhangwei" matches "zhangwei" and "PC-01\\zhangwei" (case-insensitive)."""
    full = session.lower()
    short = full.rsplit("\\", 1)[-1]
    return any(a.lower() in (full, short) for a in accounts)


def apply_exemptions(
    result: CheckResult, exemptions: Sequence[PersonExemption], hostname: str, today: date
) -> CheckResult:
    if result.status != "fail" or result.waived or NO_EXCEPTIONS & set(result.rules):
        return result
    relevant = [x for x in exemptions if result.check in x.checks and (not x.hosts or hostname in x.hosts)]
    sessions = result.evidence.get("session_accounts")
    if not relevant or not isinstance(sessions, list):
        return result
    covering: dict[str, PersonExemption] = {}
    expired: list[dict[str, Any]] = []
    not_exempted = []
    for account in sessions:
        owners = [x for x in relevant if account_matches(str(account), x.accounts)]
        current = [x for x in owners if date.fromisoformat(x.expires) >= today]
        if current:
            covering[account] = current[0]
        else:
            not_exempted.append(account)
            expired += [{"person": x.person, "account": account, "expires": x.expires} for x in owners]
    if not sessions or not_exempted:
        note = {"not_exempted": not_exempted, "expired": expired, "session_accounts": sessions}
        return replace(result, evidence={**result.evidence, "person_exemption_not_applied": note})
    persons = sorted({x.person for x in covering.values()})
    first = min(covering.values(), key=lambda x: x.expires)
    note_evidence = [
        {"person": x.person, "account": account, "expires": x.expires, "approver": x.approver}
        for account, x in sorted(covering.items())
    ]
    waiver = WaiverNote(first.approver, first.reason, first.expires, "、".join(persons))
    return replace(
        result, waived=True, waiver=waiver, evidence={**result.evidence, "person_exemptions": note_evidence}
    )
