"""`hostward_build_info` and the per-job families (success, duration, attempt, timestamps)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from agent import __version__
from agent.state import Snapshot


def build_info(snapshot: Snapshot) -> Iterator[Metric]:
    info = GaugeMetricFamily(
        "hostward_build_info",
        "hostward version and Python version; always 1.",
        labels=("version", "python"),
    )
    info.add_metric((__version__, _python_version()), 1)
    yield info


def _python_version() -> str:
    """platform.python_version() without the platform module: "3.11.2", "3.13.0rc1"."""
    major, minor, micro, level, serial = sys.version_info
    tag = {"alpha": "a", "beta": "b", "candidate": "rc"}.get(level)
    return f"{major}.{minor}.{micro}" + (f"{tag}{serial}" if tag else "")


def job_families(snapshot: Snapshot) -> Iterator[Metric]:
    """One series per job and family, from the last recorded run of each job."""
    last_ok = GaugeMetricFamily(
        "hostward_job_last_success_timestamp_seconds",
        "When the job last finished successfully (Unix time).",
        labels=("job",),
    )
    last_attempt = GaugeMetricFamily(
        "hostward_job_last_attempt_timestamp_seconds",
        "When the job's last run started (Unix time).",
        labels=("job",),
    )
    duration = GaugeMetricFamily(
        "hostward_job_duration_seconds", "How long the job's last run took.", labels=("job",)
    )
    success = GaugeMetricFamily(
        "hostward_job_success", "1 if the job's last run succeeded, else 0.", labels=("job",)
    )
    attempt = GaugeMetricFamily(
        "hostward_job_attempt",
        "Attempt number of the last run: 1 after a success, n after n-1 failures in a row.",
        labels=("job",),
    )
    for name, status in sorted(snapshot.jobs.items()):
        run = status.last
        if status.last_success is not None:
            last_ok.add_metric((name,), status.last_success)
        last_attempt.add_metric((name,), run.started)
        duration.add_metric((name,), run.duration)
        success.add_metric((name,), 1 if run.success else 0)
        attempt.add_metric((name,), run.attempt)
    yield from (last_ok, last_attempt, duration, success, attempt)
