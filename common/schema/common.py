"""Schema pieces shared by several config sections."""

from __future__ import annotations

import re
from collections.abc import Iterator

from common.frozen import frozen
from common.schema.fields import Duration, at_least, setting

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@frozen
class Schedule:
    """When a job runs: every N (monotonic clock) or daily at a local time, plus jitter."""

    every: Duration | None = setting(None, "Run every this long (e.g. 15s, 15m, 6h); or use `at`.")
    at: str | None = setting(None, 'Run daily at this local time, "HH:MM" (quoted); or use `every`.')
    jitter: Duration = setting(Duration(0), "Random delay added to each run, to spread a fleet.")
    timeout: Duration = setting(
        Duration(300), "A run still going after this long is reported failed.", check=at_least(1)
    )
    enabled: bool = setting(True, "false: never run this job on schedule.")

    def problems(self) -> Iterator[tuple[str, str]]:
        if (self.every is None) == (self.at is None):
            yield "every", "give exactly one of `every` and `at`"
        if self.every is not None and self.every < 1:
            yield "every", "must be at least 1s"
        if self.at is not None and not _HHMM.match(self.at):
            yield "at", 'must be a quoted 24-hour local time such as "02:30"'

    def time_of_day(self) -> tuple[int, int] | None:
        """(hour, minute) for an `at` schedule, else None."""
        if self.at is None:
            return None
        hour, minute = self.at.split(":")
        return int(hour), int(minute)
