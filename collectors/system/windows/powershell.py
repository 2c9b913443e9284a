"""Run one fixed PowerShell script through the runner and decode its JSON output.

Scripts are constants (no data is ever templated into them). `ConvertTo-Json` turns one object
into a JSON object and several into a list; `as_list` evens that out. Dates come as
"/Date(ms)/" (Windows PowerShell 5.1), {"value": "/Date(ms)/", "DateTime": ...} (ETS-wrapped) or
ISO 8601 (PowerShell 7); `ps_date` reads all three.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from collectors.errors import CommandError
from collectors.system.files import SystemReadError
from collectors.system.runner import Runner

POWERSHELL = ("powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-Command")
TIMEOUT = 30.0
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


class NamespaceMissing(SystemReadError):
    """A CIM namespace does not exist (root/SecurityCenter2 on Windows Server)."""


def run_json(runner: Runner, name: str, script: str, stdin: bytes | None = None) -> Any:
    """Run `script`; its stdout parsed as JSON (None for empty output). Raises SystemReadError.

    Data a script needs (e.g. paths from the config) goes on `stdin`, never into the script.
    """
    try:
        if stdin is None:
            result = runner.run((*POWERSHELL, script), timeout=TIMEOUT)
        else:
            result = runner.run((*POWERSHELL, script), timeout=TIMEOUT, stdin=stdin)
    except CommandError as exc:
        raise SystemReadError(name, str(exc)) from exc
    if not result.ok:
        tail = result.stderr_tail()
        if "Invalid namespace" in tail or "0x8004100e" in tail.lower():
            raise NamespaceMissing(name, "CIM namespace not present")
        raise SystemReadError(name, f"exit {result.returncode}: {tail}")
    text = result.stdout.decode("utf-8-sig", "replace").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemReadError(name, "output is not JSON") from exc


def as_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, dict)]


def ps_date(value: Any) -> datetime | None:
    """A PowerShell date in any of its JSON spellings, as an aware datetime; None if absent."""
    if isinstance(value, dict):
        value = value.get("value", value.get("DateTime"))
    if not isinstance(value, str) or not value:
        return None
    match = _MS_DATE.search(value)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
