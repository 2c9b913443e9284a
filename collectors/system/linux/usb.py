"""USB: storage devices attached (sysfs) and USBGuard's configuration."""

from __future__ import annotations

import os

from collectors.system.files import Unparsable, list_dir, read_text
from common.frozen import frozen

MASS_STORAGE_CLASS = "08"
USBGUARD_DAEMON_CONF = "/etc/usbguard/usbguard-daemon.conf"
USBGUARD_RULES = "/etc/usbguard/rules.conf"


@frozen
class UsbStorageDevice:
    """A USB storage device attached now: bus id, vendor and product ids and names, serial."""

    bus_id: str
    vendor_id: str
    product_id: str
    vendor: str
    product: str
    serial: str


def _attr(root: str | os.PathLike[str], dev: str, name: str) -> str:
    return (read_text(root, f"/sys/bus/usb/devices/{dev}/{name}") or "").strip()


def read_usb_storage_devices(root: str | os.PathLike[str] = "/") -> list[UsbStorageDevice]:
    """Attached USB devices with a mass-storage interface (class 08)."""
    entries = list_dir(root, "/sys/bus/usb/devices")
    storage_parents = {
        e.split(":", 1)[0]
        for e in entries
        if ":" in e and _attr(root, e, "bInterfaceClass").lower() == MASS_STORAGE_CLASS
    }
    return [
        UsbStorageDevice(
            bus_id=dev,
            vendor_id=_attr(root, dev, "idVendor"),
            product_id=_attr(root, dev, "idProduct"),
            vendor=_attr(root, dev, "manufacturer"),
            product=_attr(root, dev, "product"),
            serial=_attr(root, dev, "serial"),
        )
        for dev in sorted(storage_parents)
    ]


@frozen
class UsbGuardConfig:
    """USBGuard as configured: installed or not, its implicit policy, and whether a rule lets storage in."""

    installed: bool
    implicit_policy: str  # "block", "reject", "allow" or "" when unset
    allows_storage: bool  # a rule allows any mass-storage interface
    rules_file: str


def read_usbguard(root: str | os.PathLike[str] = "/") -> UsbGuardConfig:
    daemon = read_text(root, USBGUARD_DAEMON_CONF)
    if daemon is None:
        return UsbGuardConfig(False, "", False, "")
    implicit = ""
    rules_file = USBGUARD_RULES
    for line in daemon.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "ImplicitPolicyTarget":
            implicit = value.strip()
        elif key.strip() == "RuleFile" and value.strip():
            rules_file = value.strip()
    rules = read_text(root, rules_file) or ""
    check_rules(rules, rules_file)
    return UsbGuardConfig(True, implicit, storage_allowed(rules), rules_file)


_RULE_TARGETS = frozenset({"allow", "block", "reject", "match", "device"})


def check_rules(rules: str, path: str) -> None:
    """Raise Unparsable when most rule lines are not USBGuard rules: usbguard-daemon would not
    start on such a file, so it proves no block."""
    good, bad = 0, []
    for lineno, line in enumerate(rules.splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if words:
            if words[0] in _RULE_TARGETS:
                good += 1
            else:
                bad.append(lineno)
    if len(bad) > good:
        raise Unparsable(
            path, f"{len(bad)} of {len(bad) + good} lines are not USBGuard rules (first: line {bad[0]})"
        )


def storage_allowed(rules: str) -> bool:
    """Whether the first USBGuard rule that names a mass-storage interface (08:*) allows it.

    USBGuard applies the first matching rule, so a block rule above an allow rule wins.
    """
    for line in rules.splitlines():
        rule = line.split("#", 1)[0]
        words = rule.split()
        if words and "08:" in rule:
            return words[0] == "allow"
    return False
