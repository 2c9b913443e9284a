"""The `report:` config section (ROOM-3: a daily inspection record per host, kept and printable)."""

from __future__ import annotations

from typing import Literal

from common.frozen import frozen
from common.schema import Duration, setting
from common.schema.common import Schedule
from common.schema.fields import between


@frozen
class DailyReportConfig:
    """When the daily inspection record is written, in which language, and how long it is kept."""

    schedule: Schedule = setting(
        factory=lambda: Schedule(at="23:55", timeout=Duration(120)),
        doc="When today's inspection record is written to <state_dir>/reports/daily-YYYY-MM-DD.html.\n"
        "An agent that was off at that time writes it once when it starts.",
    )
    lang: Literal["zh", "en"] = setting("zh", "Language of the archived record.")
    keep_days: int = setting(
        400, "Days of records kept in the archive; older files are deleted.", check=between(1, 36500)
    )


@frozen
class ReportConfig:
    """The `report:` section: the reports the agent writes."""

    daily: DailyReportConfig = setting(
        factory=DailyReportConfig, doc="The daily inspection record of this host (ROOM-3)."
    )
