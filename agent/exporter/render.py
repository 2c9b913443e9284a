"""Render the registered families to the exposition format, cached per state version.

One `MetricsRenderer` owns one CollectorRegistry (ours, never the global one) holding one
custom collector that runs every builder over the snapshot being rendered. The bytes are
cached per (snapshot version, fault count, content type): scrapes between two job runs cost a dict lookup.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

from agent import faults
from agent.exporter.families import BUILDERS, FamilyBuilder
from agent.exporter.textformat import choose_encoder
from agent.state import Snapshot

log = logging.getLogger(__name__)


class _SnapshotCollector:
    """A custom collector over whatever snapshot the renderer sets before collecting."""

    def __init__(self, builders: Sequence[FamilyBuilder]) -> None:
        self.builders = builders
        self.snapshot = Snapshot(0)

    def collect(self) -> Iterator[Metric]:
        failed = 0
        for builder in self.builders:
            try:
                families = list(builder(self.snapshot))
            except Exception:  # one broken builder must not take the whole scrape down
                failed += 1
                log.exception("metric builder %s failed", getattr(builder, "__name__", builder))
                continue
            yield from families
        yield GaugeMetricFamily(
            "hostward_exporter_builder_errors",
            "Metric builders that failed in this render (details in the agent's log).",
            value=failed,
        )


class MetricsRenderer:
    """Thread-safe. `render(snapshot, accept)` -> (body, content type)."""

    def __init__(self, builders: Sequence[FamilyBuilder] = BUILDERS) -> None:
        self._collector = _SnapshotCollector(builders)
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self._collector)
        self._lock = threading.Lock()
        self._cache: dict[str, bytes] = {}
        self._version: tuple[int, int] = (-1, -1)

    def render(self, snapshot: Snapshot, accept: str = "") -> tuple[bytes, str]:
        encoder, content_type = choose_encoder(accept)
        with self._lock:
            version = (snapshot.version, faults.snapshot()[0])  # a write error changes no snapshot
            if version != self._version:
                self._cache.clear()
                self._version = version
            body = self._cache.get(content_type)
            if body is None:
                self._collector.snapshot = snapshot
                body = encoder(self._registry)
                self._cache[content_type] = body
        return body, content_type
