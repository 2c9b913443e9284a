"""BAK-* and ROOM-* in the fleet's "by rule" view, from the operational metrics each agent
exports (backups, restore drills, outages, UPS alarms, the daily record job, the journal, the
inventory), so every catalogue rule appears, not only those a compliance check proves.

A host that exports nothing for a rule (no backup configured, no UPS) gets no verdict for it:
never a pass on nothing. Rules with no signal at all (BAK-6) still appear, as "not measured".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from agent.report.prometheus import Sample

DAY = 86400.0
METRICS = (
    "hostward_backup_last_success_timestamp_seconds",
    "hostward_backup_last_attempt_timestamp_seconds",
    "hostward_backup_offline_copy_age_seconds",
    "hostward_backup_check_success",
    "hostward_backup_coverage_gap",
    "hostward_backup_drill_success",
    "hostward_outage_open",
    "hostward_outage_over_threshold",
    "hostward_outage_last_restore_seconds",
    "hostward_ups_alarm",
    "hostward_job_last_success_timestamp_seconds",
    "hostward_journal_write_errors_total",
    "hostward_journal_last_write_error_timestamp_seconds",
    "hostward_inventory_last_timestamp_seconds",
)
Verdicts = dict[str, dict[str, dict[str, list[str]]]]  # rule -> host label -> status -> signals


def queries(job: str) -> dict[str, str]:
    """PromQL per metric for one scrape job (`job` already checked by fleet.check_job)."""
    return {name: f'{name}{{job="{job}"}}' for name in METRICS}


def _by_instance(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        out[s.labels.get("instance", "")].append(s)
    return out


Judge = Callable[[Mapping[str, list[Sample]], float], str | None]  # "pass" | "fail" | "error" | None


def _values(m: Mapping[str, list[Sample]], name: str) -> list[float]:
    return [s.value for s in m.get(name, [])]


def _backs_up(m: Mapping[str, list[Sample]]) -> bool:
    return bool(
        m.get("hostward_backup_last_attempt_timestamp_seconds")
        or m.get("hostward_backup_last_success_timestamp_seconds")
    )


def _fresh(max_age: float) -> Judge:
    def judge(m: Mapping[str, list[Sample]], at: float) -> str | None:
        if not _backs_up(m):
            return None
        ok = _values(m, "hostward_backup_last_success_timestamp_seconds")
        attempts = {
            s.labels.get("repository") for s in m.get("hostward_backup_last_attempt_timestamp_seconds", [])
        }
        succeeded = {
            s.labels.get("repository") for s in m.get("hostward_backup_last_success_timestamp_seconds", [])
        }
        if not ok or attempts - succeeded:
            return "fail"  # a repository never had a complete backup
        return "pass" if all(at - v <= max_age for v in ok) else "fail"

    return judge


def _offline_copy(m: Mapping[str, list[Sample]], at: float) -> str | None:
    ages = _values(m, "hostward_backup_offline_copy_age_seconds")
    return None if not ages else "pass" if max(ages) <= 31 * DAY else "fail"


def _two_copies(m: Mapping[str, list[Sample]], at: float) -> str | None:
    if not _backs_up(m):
        return None
    repos = {s.labels.get("repository") for s in m.get("hostward_backup_last_success_timestamp_seconds", [])}
    return "pass" if len(repos) >= 2 else "fail"


def _all_one(name: str, absent: str | None = None) -> Judge:
    def judge(m: Mapping[str, list[Sample]], at: float) -> str | None:
        values = _values(m, name)
        if not values:
            return absent if _backs_up(m) else None
        return "pass" if all(v == 1.0 for v in values) else "fail"

    return judge


def _all_zero(name: str) -> Judge:
    def judge(m: Mapping[str, list[Sample]], at: float) -> str | None:
        values = _values(m, name)
        return None if not values else "pass" if all(v == 0.0 for v in values) else "fail"

    return judge


def _restore_time(m: Mapping[str, list[Sample]], at: float) -> str | None:
    over, took = (
        _values(m, "hostward_outage_over_threshold"),
        _values(m, "hostward_outage_last_restore_seconds"),
    )
    if not over and not took:
        return None
    return "fail" if any(v == 1.0 for v in over) or any(t > 4 * 3600 for t in took) else "pass"


def _daily_record(m: Mapping[str, list[Sample]], at: float) -> str | None:
    # The exporter's `job` label becomes `exported_job` once Prometheus adds its own `job`.
    jobs = m.get("hostward_job_last_success_timestamp_seconds", [])
    runs = [s.value for s in jobs if s.labels.get("exported_job") == "report_daily"]
    return None if not runs else "pass" if at - max(runs) <= 2 * DAY else "fail"


def _journal(m: Mapping[str, list[Sample]], at: float) -> str | None:
    errors = _values(m, "hostward_journal_write_errors_total")
    if not errors:
        return None
    last = _values(m, "hostward_journal_last_write_error_timestamp_seconds")
    recent = any(at - t <= 7 * DAY for t in last if t > 0)
    return "fail" if sum(errors) > 0 and (recent or not last) else "pass"


def _inventory(m: Mapping[str, list[Sample]], at: float) -> str | None:
    last = _values(m, "hostward_inventory_last_timestamp_seconds")
    return None if not last else "pass" if at - max(last) <= 8 * DAY else "fail"


# rule -> (signal shown in the table, how it is judged)
SIGNALS: tuple[tuple[str, str, Judge], ...] = (
    ("BAK-1", "backup.daily", _fresh(1.5 * DAY)),
    ("BAK-1", "backup.offline_copy_monthly", _offline_copy),
    ("BAK-2", "backup.two_copies", _two_copies),
    ("BAK-2", "backup.repository_check", _all_one("hostward_backup_check_success")),
    ("BAK-2", "backup.coverage", _all_zero("hostward_backup_coverage_gap")),
    ("BAK-4", "backup.monthly", _fresh(31 * DAY)),
    ("BAK-5", "backup.restore_drill", _all_one("hostward_backup_drill_success", absent="error")),
    ("ROOM-1", "outage.open", _all_zero("hostward_outage_open")),
    ("ROOM-1", "ups.alarm", _all_zero("hostward_ups_alarm")),
    ("ROOM-2", "outage.restore_time", _restore_time),
    ("ROOM-3", "daily_record", _daily_record),
    ("ROOM-4", "journal", _journal),
    ("ROOM-5", "inventory", _inventory),
)


def operational_verdicts(
    answers: Mapping[str, list[Sample]], at: float, labels: Mapping[str, str]
) -> Verdicts:
    """Per rule and host (`labels`: instance -> how the table names it; hosts with data only),
    which signals pass, fail or cannot tell."""
    per_metric = {name: _by_instance(samples) for name, samples in answers.items()}
    out: Verdicts = defaultdict(lambda: defaultdict(dict))
    for instance, label in labels.items():
        mine = {name: by.get(instance, []) for name, by in per_metric.items()}
        for rule, signal, judge in SIGNALS:
            verdict = judge(mine, at)
            if verdict is not None:
                out[rule][label].setdefault(verdict, []).append(signal)
    return out
