"""The registry of status-page sections.

A section takes the latest stored state and a language ("zh" or "en") and returns an HTML
fragment (Markup, built with agent.web.markup, so every value in it is escaped once). Later
issues add theirs here, one line each.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.state import Snapshot
from agent.web.markup import Markup
from agent.web.section_audit import audit_section
from agent.web.section_backup import backup_section
from agent.web.section_devices import devices_section
from agent.web.section_events import events_section
from agent.web.section_health import health_section
from agent.web.section_host import host_section
from agent.web.section_jobs import jobs_section

Section = Callable[[Snapshot, str], Markup]

SECTIONS: tuple[Section, ...] = (
    host_section,
    health_section,
    devices_section,
    events_section,
    audit_section,
    backup_section,
    jobs_section,
)
