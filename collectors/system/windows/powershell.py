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

from collectors.system.evidence import NoEvidence
from collectors.system.files import SystemReadError
from collectors.system.runner import Runner
from common.errors import CommandError

POWERSHELL = ("powershell.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-Command")
TIMEOUT = 30.0
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


class NamespaceMissing(SystemReadError):
    """A CIM namespace does not exist (root/SecurityCenter2 on Windows Server)."""


class ScriptFailed(NoEvidence):
    """PowerShell ran the script and it failed (exit code): e.g. a cmdlet whose feature is absent."""


def run_json(runner: Runner, name: str, script: str, stdin: bytes | None = None) -> Any:
    """Run `script`; its stdout parsed as JSON. Every script prints JSON even when the answer is
    "none" (`ConvertTo-Json -InputObject @(...)` prints `[]`), so empty output means PowerShell
    did not run the script: blocked by policy, constrained language mode, a stub or broken.
    Raises NoEvidence for that, for non-JSON, a timeout, a size cap or an exit code, and
    NamespaceMissing for an absent CIM namespace. Data a script needs (e.g. paths from the
    config) goes on `stdin`, never into the script.
    """
    try:
        if stdin is None:
            result = runner.run((*POWERSHELL, script), timeout=TIMEOUT)
        else:
            result = runner.run((*POWERSHELL, script), timeout=TIMEOUT, stdin=stdin)
    except CommandError as exc:
        raise NoEvidence(
            name, f"PowerShell could not be started: {exc}", f"无法启动 PowerShell：{exc}"
        ) from exc
    if result.timed_out:
        raise NoEvidence(
            name,
            f"PowerShell gave no answer within {TIMEOUT:g} s (hung or blocked?)",
            f"PowerShell 在 {TIMEOUT:g} 秒内没有应答（卡住或被阻止？）",
        )
    if not result.ok:
        tail = result.stderr_tail()
        if "Invalid namespace" in tail or "0x8004100e" in tail.lower():
            raise NamespaceMissing(name, "CIM namespace not present")
        raise ScriptFailed(
            name,
            f"PowerShell exited with code {result.returncode}: {tail or 'no message'}",
            f"PowerShell 退出码 {result.returncode}：{tail or '无信息'}",
        )
    if result.truncated:
        raise NoEvidence(
            name, "PowerShell output was cut at the size limit", "PowerShell 输出超过大小上限被截断"
        )
    text = result.stdout.decode("utf-8-sig", "replace").strip()
    if not text:
        raise NoEvidence(
            name,
            "PowerShell returned no data: blocked by policy, constrained language mode or broken?",
            "PowerShell 没有返回任何数据：被策略阻止、处于受限语言模式或已损坏？",
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        shown = " ".join(text.split())[:80]
        raise NoEvidence(
            name, f"PowerShell output is not JSON: {shown!r}", f"PowerShell 输出不是 JSON：{shown!r}"
        ) from exc
    if data is None:
        raise NoEvidence(name, "PowerShell returned null", "PowerShell 返回了 null（没有数据）")
    return data


def entries(data: Any) -> list[Any]:
    """The items of a JSON reading: a bare object is one item; null and empty items dropped.
    Windows PowerShell 5.1 sometimes wraps an array as {"value": [...], "Count": n}."""
    if isinstance(data, dict) and set(data) == {"value", "Count"} and isinstance(data["value"], list):
        data = data["value"]
    items = data if isinstance(data, list) else [data]
    return [i for i in items if i not in (None, "", {}, [])]


def as_list(value: Any) -> list[dict[str, Any]]:
    return [i for i in entries(value) if isinstance(i, dict)]


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
