"""What changed between two stored registers (ROOM-5): the changes an officer must see.

Only sections read (`ok`) in both registers are compared: a section that failed this time
must not look like every disk removed. Kinds (the `kind` label of
hostward_inventory_changes_total, a fixed, small set):

- `serial`: the machine's serial number changed (a board swap), or a disk's under the same name;
- `disk`: a fixed disk added or removed (removable media are the USB record's business);
- `adapter`: a physical network adapter added or removed; `mac`: its MAC address changed
  (virtual interfaces, bridges and VPN tunnels come and go and are listed but not compared);
- `software_installed`, `software_removed`: by package or program name (upgrades are not
  changes of the register; the version is in it);
- `os`: the operating system's name or version changed;
- `device`: a part of a machine-room device (chassis, module, power supply; ENTITY-MIB) added or
  removed, compared for the devices read both times (one down today is not "removed"); a
  part's serial number changed under the same index is `serial`.
"""

from __future__ import annotations

from typing import Any

from common.frozen import frozen

KINDS = ("serial", "disk", "adapter", "mac", "software_installed", "software_removed", "os", "device")


@frozen
class Change:
    """One change in the register: its kind, the item, and the value before and after (None: absent)."""

    kind: str
    item: str
    before: Any
    after: Any

    def to_payload(self) -> dict[str, Any]:
        return {"kind": self.kind, "item": self.item, "before": self.before, "after": self.after}


def _items(payload: dict[str, Any], section: str) -> list[dict[str, Any]] | None:
    sections = payload.get("sections")
    entry = sections.get(section) if isinstance(sections, dict) else None
    if not isinstance(entry, dict) or entry.get("status") != "ok":
        return None
    return [i for i in entry.get("items") or [] if isinstance(i, dict)]


def _by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(i.get(key, "")): i for i in items}


def _system(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Change]:
    old, new = (before or [{}])[0], (after or [{}])[0]
    if old.get("serial", "") != new.get("serial", ""):
        return [Change("serial", "system", old.get("serial", ""), new.get("serial", ""))]
    return []


def _disks(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Change]:
    old = _by([d for d in before if not d.get("removable")], "name")
    new = _by([d for d in after if not d.get("removable")], "name")
    out = [Change("disk", n, old[n], None) for n in sorted(old.keys() - new.keys())]
    out += [Change("disk", n, None, new[n]) for n in sorted(new.keys() - old.keys())]
    for n in sorted(old.keys() & new.keys()):
        if old[n].get("serial", "") != new[n].get("serial", ""):
            out.append(Change("serial", f"disk {n}", old[n].get("serial", ""), new[n].get("serial", "")))
    return out


def _adapters(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Change]:
    old = _by([a for a in before if a.get("physical")], "name")
    new = _by([a for a in after if a.get("physical")], "name")
    out = [Change("adapter", n, old[n], None) for n in sorted(old.keys() - new.keys())]
    out += [Change("adapter", n, None, new[n]) for n in sorted(new.keys() - old.keys())]
    for n in sorted(old.keys() & new.keys()):
        if old[n].get("mac", "") != new[n].get("mac", ""):
            out.append(Change("mac", n, old[n].get("mac", ""), new[n].get("mac", "")))
    return out


def _software(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Change]:
    old, new = _by(before, "name"), _by(after, "name")
    out = [Change("software_installed", n, None, new[n]) for n in sorted(new.keys() - old.keys())]
    out += [Change("software_removed", n, old[n], None) for n in sorted(old.keys() - new.keys())]
    return out


def _os(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[Change]:
    old, new = (before or [{}])[0], (after or [{}])[0]
    pick = ("name", "version")
    if [old.get(k) for k in pick] != [new.get(k) for k in pick]:
        return [Change("os", "os", {k: old.get(k) for k in pick}, {k: new.get(k) for k in pick})]
    return []


def _device_parts(payload: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """{device: {index: part}} of every device read (the section may be partial)."""
    sections = payload.get("sections")
    entry = sections.get("devices") if isinstance(sections, dict) else None
    out: dict[str, dict[str, dict[str, Any]]] = {}
    if isinstance(entry, dict):
        for part in entry.get("items") or []:
            if isinstance(part, dict):
                out.setdefault(str(part.get("device", "")), {})[str(part.get("index", ""))] = part
    return out


def _devices(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    old, new = _device_parts(before), _device_parts(after)
    out: list[Change] = []
    for device in sorted(old.keys() & new.keys()):
        was, now = old[device], new[device]
        out += [Change("device", f"{device} {i}", was[i], None) for i in sorted(was.keys() - now.keys())]
        out += [Change("device", f"{device} {i}", None, now[i]) for i in sorted(now.keys() - was.keys())]
        for i in sorted(was.keys() & now.keys()):
            before_serial, after_serial = was[i].get("serial", ""), now[i].get("serial", "")
            if before_serial != after_serial:
                out.append(Change("serial", f"{device} {i}", before_serial, after_serial))
    return out


_COMPARED = (("system", _system), ("disks", _disks), ("adapters", _adapters), ("software", _software),
             ("os", _os))  # fmt: skip


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The changes from register `before` to `after` (stored payloads)."""
    out: list[Change] = []
    for section, compare in _COMPARED:
        old, new = _items(before, section), _items(after, section)
        if old is not None and new is not None:
            out.extend(compare(old, new))
    return out + _devices(before, after)
