"""The "audit" record: the last whole audit of this host (results, counts, USB storage seen)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from agent.records.base import Reader, malformed, start, wrap
from common.frozen import frozen
from policies.result import CheckResult

STATUSES = ("pass", "fail", "error", "not_applicable", "waived")


@frozen
class AuditSummary:
    """Counts by status; `waived` counts failing checks under a waiver (also in `fail`)."""

    passed: int = 0
    failed: int = 0
    error: int = 0
    not_applicable: int = 0
    waived: int = 0

    def count(self, status: str) -> int:
        return {"pass": self.passed, "fail": self.failed, "error": self.error,
                "not_applicable": self.not_applicable, "waived": self.waived}.get(status, 0)  # fmt: skip

    def to_json(self) -> dict[str, int]:
        return {s: self.count(s) for s in STATUSES}

    @classmethod
    def from_reader(cls, r: Reader) -> AuditSummary:
        return cls(*(r.integer(s, 0) for s in STATUSES))


@frozen
class UsbSeen:
    """A USB storage device seen on this host (USB-3), first and last seen (Unix time)."""

    vendor: str
    product: str
    serial: str
    first_seen: float | None
    last_seen: float | None

    def to_json(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "product": self.product, "serial": self.serial,
                "first_seen": self.first_seen, "last_seen": self.last_seen}  # fmt: skip

    @classmethod
    def from_reader(cls, r: Reader) -> UsbSeen:
        return cls(r.text("vendor", ""), r.text("product", ""), r.text("serial", ""),
                   r.opt_number("first_seen"), r.opt_number("last_seen"))  # fmt: skip


@frozen
class AuditRecord:
    """The last whole audit: its target, every check's result, the counts, the rejected policy files
    and the USB storage seen."""

    KIND: ClassVar[str] = "audit"
    VERSION: ClassVar[int] = 1

    host: Mapping[str, Any]  # the audit's target: name, role, platform, root, live, time
    results: tuple[CheckResult, ...]
    summary: AuditSummary
    policy_problems: tuple[str, ...] = ()
    usb_devices_seen: tuple[UsbSeen, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "host": dict(self.host),
            "results": [r.to_json() for r in self.results],
            "summary": self.summary.to_json(),
            "policy_problems": list(self.policy_problems),
            "usb_devices_seen": [d.to_json() for d in self.usb_devices_seen],
        }

    @classmethod
    def from_json(cls, data: Any) -> AuditRecord:
        r = start(cls.KIND, cls.VERSION, data)
        results = []
        for i, item in enumerate(r.items("results")):
            try:
                Reader(cls.KIND, item, f"results[{i}]")
                results.append(CheckResult.from_json(item))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise wrap(exc, cls.KIND, f"results[{i}]") from exc
        summary = r.obj("summary")
        if summary is None:
            raise malformed(cls.KIND, "summary", "missing")
        usb = []
        for i, item in enumerate(r.items("usb_devices_seen")):
            usb.append(UsbSeen.from_reader(Reader(cls.KIND, item, f"usb_devices_seen[{i}]")))
        return cls(
            host=dict(r.mapping("host")),
            results=tuple(results),
            summary=AuditSummary.from_reader(summary),
            policy_problems=r.texts("policy_problems"),
            usb_devices_seen=tuple(usb),
        )
