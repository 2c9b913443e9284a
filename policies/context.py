"""What a probe is given: the target, a runner, the clock, its parameters and shared inputs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import field
from datetime import date, datetime
from typing import Any, TypeVar

from collectors.system.runner import Runner
from collectors.system.windows.registry import Registry
from common.frozen import frozen
from policies.config import InternetAccessConfig, IsolationConfig
from policies.schema import Parameters, Platform, ProbeSpec, Role

T = TypeVar("T")


@frozen
class Target:
    """The system audited. `live` is False for an offline root (mounted disk image)."""

    hostname: str
    role: Role
    platform: Platform
    root: str = "/"
    live: bool = True


@frozen
class Leaver:
    """One line of the leavers list: a person who left, their account and the day they left (ACC-1)."""

    name: str
    account: str
    date_left: date


@frozen
class AuditInputs:
    """Inputs beyond the host itself. `leavers` None means no leavers list is configured."""

    leavers: tuple[Leaver, ...] | None = None
    leavers_source: str = ""
    leavers_error: str = ""  # the configured list could not be read: ACC-1 is an error
    isolation: IsolationConfig = field(default_factory=IsolationConfig)
    network_baseline: Mapping[str, Any] | None = None
    assets: Mapping[str, str] | None = None  # normalised MAC -> device name; None: no register
    assets_source: str = ""
    assets_error: str = ""  # the configured register could not be read: NET-6 is an error
    internet_access: InternetAccessConfig = field(default_factory=InternetAccessConfig)
    registry: Registry | None = None  # None: the local registry (Windows); tests pass their own
    # backup.retention as configured (keep_within, keep_yearly, ...); None: no backup configured
    backup_retention: Mapping[str, Any] | None = None


class Cache:
    """Values read once per audit and shared by checks (e.g. /etc/shadow, `ip -j route`).

    An exception is cached too: every check that needs an unreadable file reports the error.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._values: dict[str, tuple[bool, Any]] = {}

    def get(self, key: str, read: Callable[[], T]) -> T:
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                try:
                    self._values[key] = (True, read())
                except Exception as exc:
                    self._values[key] = (False, exc)
            ok, value = self._values[key]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]


@frozen
class ProbeContext:
    """Everything one probe runs with: the target, the runner, the time, its parameters, the shared
    inputs and cache, and its deadline."""

    target: Target
    runner: Runner
    now: datetime  # timezone-aware
    params: Parameters
    inputs: AuditInputs
    cache: Cache
    deadline: float  # monotonic clock
    registry: Registry | None = None  # Windows: None means the local registry
    probe: ProbeSpec | None = None  # the check's probe spec (the `conditions` probe reads it)

    def read(self, key: str, reader: Callable[[], T]) -> T:
        return self.cache.get(key, reader)
