"""Updates of the small key/value entries several processes change (State.update applies each
inside one `BEGIN IMMEDIATE` transaction, in whichever process holds the state: a worker sends
it to the daemon). Frozen and picklable; `apply` is pure.

- `UsbSeenMerge`: the USB storage history (USB-3), merged by the audit (`hostward audit` and the
  job), the usb_watch job and the daemon's USB listener;
- `FirstValue`: a value registered on first sight only (the NET-5 network baseline);
- `SetValue`: a value replaced, the one it replaced returned (the NET-5 baseline accepted);
- `MergeMapping`: some names of a mapping set, the others kept (backup verify's data slices,
  the access-log bookmarks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from common.frozen import frozen

if TYPE_CHECKING:
    from agent.state import State

USB_KEY = "audit.usb_devices"
_USB_FIELDS = ("vendor", "product", "serial")


def merged_usb(seen: Any, devices: tuple[Mapping[str, Any], ...], now: float) -> dict[str, Any]:
    """The history `seen` ({vendor|product|serial: {..., first_seen, last_seen}}) with `devices`
    seen at `now`: a new one first seen now, every one last seen now."""
    merged: dict[str, Any] = dict(seen) if isinstance(seen, Mapping) else {}
    for dev in devices:
        key = "|".join(str(dev.get(k, "")) for k in _USB_FIELDS)
        old = merged.get(key)
        entry = dict(old) if isinstance(old, Mapping) else {
            **{k: dev.get(k, "") for k in _USB_FIELDS}, "first_seen": now}  # fmt: skip
        entry["last_seen"] = now
        merged[key] = entry
    return merged


@frozen
class UsbSeenMerge:
    """USB storage devices seen at `now`, merged into the USB-3 history."""

    devices: tuple[Mapping[str, Any], ...]
    now: float

    def key(self) -> str:
        return USB_KEY

    def apply(self, current: Any) -> Any:
        return merged_usb(current, self.devices, self.now)


@frozen
class FirstValue:
    """`value` stored under `name` unless a value is there already."""

    name: str
    value: Any

    def key(self) -> str:
        return self.name

    def apply(self, current: Any) -> Any:
        return self.value if current is None else current


@frozen
class SetValue:
    """`value` stored under `name`, whatever was there."""

    name: str
    value: Any

    def key(self) -> str:
        return self.name

    def apply(self, current: Any) -> Any:
        return self.value


@frozen
class MergeMapping:
    """The names of `values` set in the mapping under `name`; its other names kept."""

    name: str
    values: Mapping[str, Any]

    def key(self) -> str:
        return self.name

    def apply(self, current: Any) -> Any:
        return {**(dict(current) if isinstance(current, Mapping) else {}), **self.values}


def merge_usb_devices(state: State, devices: list[Any], now: float) -> None:
    """Merge `devices` seen at `now` into the USB storage history, in one transaction."""
    state.update(UsbSeenMerge(tuple(d for d in devices if isinstance(d, dict)), now))
