"""The exporter's error (a module of its own so importing it loads nothing else)."""

from __future__ import annotations

from common.errors import HostwardError


class ExporterError(HostwardError):
    """The exporter cannot start: bind failure, bad TLS files or a broken auth config."""
