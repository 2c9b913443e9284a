"""The watchdog's mark on a result is a typed field, not a string in the evidence."""

from __future__ import annotations

import pytest

from policies.result import CheckResult


def _result(**extra: object) -> dict[str, object]:
    return {"check": "x.y", "status": "error", "rules": ["USB-1"], "severity": "high", "reason": "r", **extra}


def test_a_stopped_result_keeps_its_mark_through_json() -> None:
    stored = CheckResult.from_json(_result(stopped="memory")).to_json()
    assert stored["stopped"] == "memory"
    assert CheckResult.from_json(stored).stopped == "memory"
    assert "stopped" not in CheckResult.from_json(_result()).to_json()  # ran to its end


def test_a_result_stored_before_the_field_reads_its_mark_from_the_evidence() -> None:
    old = CheckResult.from_json(_result(evidence={"watchdog": "set_aside"}))
    assert old.stopped == "set_aside"


def test_an_unknown_mark_is_refused_not_taken_for_ran_to_its_end() -> None:
    with pytest.raises(ValueError, match="stopped"):
        CheckResult.from_json(_result(stopped="exploded"))
