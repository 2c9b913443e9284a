"""The "inventory" record: the asset register of this host (ROOM-5) and its running change counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any, ClassVar

from agent.records.base import Reader, malformed, start
from collectors.inventory.diff import KINDS, Change, changes
from collectors.inventory.model import identity
from common.frozen import frozen


@frozen
class InventorySection:
    """One section of the register (system, os, disks, ...): `status` ok|error, its items."""

    status: str
    items: tuple[Mapping[str, Any], ...] = ()
    reason: Mapping[str, str] = field(default_factory=dict)  # why it could not be read: {"en", "zh"}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "items": [dict(i) for i in self.items]}
        if self.reason:
            out["reason"] = dict(self.reason)
        return out

    @classmethod
    def read(cls, r: Reader) -> InventorySection:
        items = r.items("items")
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise malformed(r.kind, f"{r.name('items')}[{i}]", "expected an object")
        reason = r.obj("reason")
        texts = {"en": reason.text("en", ""), "zh": reason.text("zh", "")} if reason is not None else {}
        return cls(r.text("status"), tuple(items), texts)


@frozen
class InventoryRecord:
    """The asset register of this host, section by section, when (Unix time) and from which root it
    was taken, with the changes counted by kind and the last ones."""

    KIND: ClassVar[str] = "inventory"
    VERSION: ClassVar[int] = 1

    host: str
    taken: float
    platform: str = ""
    root: str = "/"
    live: bool = True
    sections: Mapping[str, InventorySection] = field(default_factory=dict)
    changes_total: Mapping[str, int] = field(default_factory=dict)  # by kind of change
    last_changes: tuple[Mapping[str, Any], ...] = ()

    def identity(self) -> dict[str, str]:
        """vendor, model, serial and os ("" where unknown)."""
        return identity(self.to_json())

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.VERSION, "host": self.host, "taken": self.taken, "platform": self.platform,
            "root": self.root, "live": self.live,
            "sections": {n: s.to_json() for n, s in self.sections.items()},
            "changes_total": dict(self.changes_total), "last_changes": [dict(c) for c in self.last_changes],
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> InventoryRecord:
        r = start(cls.KIND, cls.VERSION, data)
        sections_reader = r.obj("sections")
        sections = {}
        if sections_reader is not None:
            for name in sections_reader.data:
                part = sections_reader.obj(str(name))
                if part is not None:
                    sections[str(name)] = InventorySection.read(part)
        totals = {k: int(v) for k, v in r.numbers("changes_total").items()}
        changes = r.items("last_changes")
        for i, item in enumerate(changes):
            if not isinstance(item, Mapping):
                raise malformed(cls.KIND, f"last_changes[{i}]", "expected an object")
        return cls(r.text("host", ""), r.number("taken"), r.text("platform", ""), r.text("root", "/"),
                   r.flag("live", True), sections, totals, tuple(changes))  # fmt: skip


def counts_after(previous: Mapping[str, Any] | None, found: list[Change]) -> dict[str, int]:
    """The running totals by kind: the stored ones plus this run's changes (every kind present)."""
    old = (previous or {}).get("changes_total")
    totals = {k: int(old.get(k, 0)) if isinstance(old, Mapping) else 0 for k in KINDS}
    for change in found:
        totals[change.kind] += 1
    return totals


@frozen
class InventoryUpdate:
    """A register just read (its payload), compared with the stored one inside the transaction:
    the job and `hostward inventory` storing at once count every change once. `keep`: sections
    not read this time whose stored reading stays (the CLI without --devices keeps "devices")."""

    payload: Mapping[str, Any]
    keep: tuple[str, ...] = ()

    def record_type(self) -> type[InventoryRecord]:
        return InventoryRecord

    def apply(self, current: InventoryRecord | None) -> InventoryRecord:
        return self.outcome(current)[0]

    def outcome(self, current: InventoryRecord | None) -> tuple[InventoryRecord, list[Change]]:
        """The record stored, and the changes from `current` (none for the first register)."""
        previous = current.to_json() if current is not None else None
        payload = dict(self.payload)
        sections = dict(payload.get("sections") or {})
        for name in self.keep:
            if name not in sections and previous is not None and name in previous["sections"]:
                sections[name] = previous["sections"][name]
        payload["sections"] = sections
        found = changes(previous, payload) if previous is not None else []
        payload["changes_total"] = counts_after(previous, found)
        payload["last_changes"] = (
            [c.to_payload() for c in found] if found else (previous or {}).get("last_changes", [])
        )
        return InventoryRecord.from_json(payload), found
