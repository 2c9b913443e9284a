"""Flood bounds for the trap receiver: a token bucket per source in a fixed-size LRU table.

Memory is fixed whatever arrives: at most `max_sources` entries (the least recently seen one is
forgotten for a new source), each a bucket and the engine clocks of at most `MAX_ENGINES`
SNMPv3 engines behind that address. A forgotten source starts again with a full bucket, so a
spoofed-address flood can at worst reset buckets, never grow the table. Pure logic; the caller
passes the monotonic time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

MAX_ENGINES = 4


@dataclass
class Source:
    """One source's token bucket (tokens left, as of `stamp`) and the SNMPv3 engine clocks seen
    behind it (engine id -> boots, time, when seen)."""

    tokens: float
    stamp: float
    engines: OrderedDict[bytes, tuple[int, int, float]] = field(default_factory=OrderedDict)

    def engine_clock(self, engine: bytes) -> tuple[int, int, float] | None:
        return self.engines.get(engine)

    def set_engine_clock(self, engine: bytes, boots: int, engine_time: int, now: float) -> None:
        self.engines[engine] = (boots, engine_time, now)
        self.engines.move_to_end(engine)
        while len(self.engines) > MAX_ENGINES:
            self.engines.popitem(last=False)


class SourceTable:
    """`admit(source, now)`: may this source send one more trap now?"""

    def __init__(self, rate: float, burst: int, max_sources: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_sources = max_sources
        self._sources: OrderedDict[str, Source] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sources)

    def get(self, source: str, now: float) -> Source:
        entry = self._sources.get(source)
        if entry is None:
            entry = Source(self.burst, now)
            self._sources[source] = entry
            while len(self._sources) > self.max_sources:
                self._sources.popitem(last=False)
        else:
            self._sources.move_to_end(source)
        return entry

    def admit(self, source: str, now: float) -> bool:
        entry = self.get(source, now)
        entry.tokens = min(self.burst, entry.tokens + max(0.0, now - entry.stamp) * self.rate)
        entry.stamp = now
        if entry.tokens < 1.0:
            return False
        entry.tokens -= 1.0
        return True
