"""The "host" record (the 15-second collect) and the "host_health" record (SMART, units, clock)."""

from __future__ import annotations

from typing import Any, ClassVar

from agent.records.base import start, wrap
from collectors.host import PAYLOAD_VERSION, HostSnapshot
from collectors.host_health import HostHealth
from common.frozen import frozen


@frozen
class HostRecord:
    """One host snapshot. Its JSON is the collector's payload (which has carried `version`
    since the first release), so VERSION follows collectors.host.PAYLOAD_VERSION."""

    KIND: ClassVar[str] = "host"
    VERSION: ClassVar[int] = PAYLOAD_VERSION

    snapshot: HostSnapshot

    def to_json(self) -> dict[str, Any]:
        return self.snapshot.to_payload()

    @classmethod
    def from_json(cls, data: Any) -> HostRecord:
        reader = start(cls.KIND, cls.VERSION, data)
        try:
            return cls(HostSnapshot.from_payload(reader.data))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise wrap(exc, cls.KIND, "snapshot") from exc


@frozen
class HostHealthRecord:
    """SMART, failed systemd units / stopped services and clock synchronisation."""

    KIND: ClassVar[str] = "host_health"
    VERSION: ClassVar[int] = 1

    health: HostHealth

    def to_json(self) -> dict[str, Any]:
        return {**self.health.to_payload(), "version": self.VERSION}

    @classmethod
    def from_json(cls, data: Any) -> HostHealthRecord:
        reader = start(cls.KIND, cls.VERSION, data)
        try:
            return cls(HostHealth.from_payload(reader.data))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise wrap(exc, cls.KIND, "health") from exc
